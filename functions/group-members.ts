import * as z from 'zod';
import { deps, endpoint } from '#lib/app.ts';
import { listMembers } from '#lib/domain/groups.ts';
import { membersView } from '#lib/domain/views.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** GET /group/{id}/members — members only; member protection hides contact fields from plain members. */
export const handler = endpoint({
  input: z.object({ id: groupIdField() }),
  run: async ({ input, caller }) => {
    const { group, viewer, members } = await listMembers(deps, caller.userId, input.id);
    return membersView(group, viewer, members);
  },
});
