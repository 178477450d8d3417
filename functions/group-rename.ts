import * as z from 'zod/mini';
import { deps } from '#lib/app/groups.ts';
import { endpoint } from '#lib/app/http.ts';
import { renameGroup } from '#lib/domain/groups.ts';
import { groupIdField, requiredString } from '#lib/http/fields.ts';

/** POST /group/rename — the owner renames the group. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), name: requiredString('a group name') }),
  run: ({ input, caller }) => renameGroup(deps, caller.userId, input),
});
