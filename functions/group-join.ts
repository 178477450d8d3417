import * as z from 'zod/mini';
import { deps } from '#lib/app/invitations.ts';
import { endpoint } from '#lib/app/http.ts';
import { joinGroup } from '#lib/domain/invitations.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/join — the caller joins (`status` 1) or, with certification on, asks to (`status` 2). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input, caller }) => joinGroup(deps, caller.userId, input),
});
