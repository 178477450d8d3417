import * as z from 'zod/mini';
import { deps } from '#lib/app/groups.ts';
import { endpoint } from '#lib/app/http.ts';
import { copyGroup } from '#lib/domain/copy.ts';
import { groupIdField, requiredString } from '#lib/http/fields.ts';

/** POST /group/copy_group — a member copies the group (its current members) into a new one they own. */
export const handler = endpoint({
  input: z.object({
    groupId: groupIdField(),
    name: requiredString('a group name'),
    portraitUri: z.optional(requiredString('a non-empty portrait URI').check(z.maxLength(256, { error: 'expected at most 256 characters' }))),
  }),
  run: ({ input, caller }) => copyGroup(deps, caller.userId, input),
});
