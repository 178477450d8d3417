import * as z from 'zod/mini';
import { deps } from '#lib/app/roles.ts';
import { endpoint } from '#lib/app/http.ts';
import { dismissGroup } from '#lib/domain/roles.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/dismiss — the owner dismisses the group; members are released by `group-cleanup`. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input, caller }) => dismissGroup(deps, caller.userId, input),
});
