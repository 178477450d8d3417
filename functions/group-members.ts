import * as z from 'zod/mini';
import { deps } from '#lib/app/groups.ts';
import { endpoint } from '#lib/app/http.ts';
import { listMembers } from '#lib/domain/groups.ts';
import { membersView } from '#lib/domain/views.ts';
import { cursorField, groupIdField, pageLimitField, decodeCursor, encodeCursor } from '#lib/http/fields.ts';
import { page } from '#lib/http/responses.ts';

/**
 * GET /group/{id}/members — members only; member protection hides contact fields from plain
 * members. The whole list by default; `?limit=1..500[&cursor=...]` pages it, with `nextCursor`.
 */
export const handler = endpoint({
  input: z.object({ id: groupIdField(), limit: z.optional(pageLimitField()), cursor: z.optional(cursorField()) }),
  run: async ({ input, caller }) => {
    const paging = input.limit !== undefined || input.cursor !== undefined;
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
    const result = await listMembers(deps, caller.userId, input.id, paging ? { limit: input.limit ?? 500, after } : undefined);
    const view = membersView(result.group, result.viewer, result.members);
    return paging ? page(view, result.after === undefined ? undefined : encodeCursor(result.after)) : view;
  },
});
