import * as z from 'zod/mini';
import { deps } from '#lib/app/roles.ts';
import { endpoint } from '#lib/app/http.ts';
import { setManagers } from '#lib/domain/roles.ts';
import { groupIdField, userIdListField } from '#lib/http/fields.ts';

/** POST /group/set_manager — the owner makes members managers (at most 10 managers). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), memberIds: userIdListField() }),
  run: ({ input, caller }) => setManagers(deps, caller.userId, input),
});
