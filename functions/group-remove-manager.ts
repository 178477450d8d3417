import * as z from 'zod/mini';
import { deps } from '#lib/app/roles.ts';
import { endpoint } from '#lib/app/http.ts';
import { removeManagers } from '#lib/domain/roles.ts';
import { groupIdField, userIdListField } from '#lib/http/fields.ts';

/** POST /group/remove_manager — the owner makes managers plain members again. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), memberIds: userIdListField() }),
  run: ({ input, caller }) => removeManagers(deps, caller.userId, input),
});
