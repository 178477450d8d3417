import * as z from 'zod/mini';
import { deps, endpoint } from '#lib/app.ts';
import { setManagers } from '#lib/domain/roles.ts';
import { groupIdField, userIdListField } from '#lib/http/fields.ts';

/** POST /group/set_manager — the owner makes members managers (at most 10 managers). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), memberIds: userIdListField() }),
  run: ({ input, caller }) => setManagers(deps, caller.userId, input),
});
