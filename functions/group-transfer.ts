import * as z from 'zod/mini';
import { deps } from '#lib/app/roles.ts';
import { endpoint } from '#lib/app/http.ts';
import { transferOwner } from '#lib/domain/roles.ts';
import { groupIdField, userIdField } from '#lib/http/fields.ts';

/** POST /group/transfer — the owner makes another member the owner and becomes a plain member. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), userId: userIdField() }),
  run: ({ input, caller }) => transferOwner(deps, caller.userId, input),
});
