import * as z from 'zod/mini';
import { deps } from '#lib/app/groups.ts';
import { endpoint } from '#lib/app/http.ts';
import { createGroup } from '#lib/domain/groups.ts';
import { requiredString, userIdListField } from '#lib/http/fields.ts';

/** POST /group/create — the caller creates a group and becomes its owner. */
export const handler = endpoint({
  input: z.object({
    name: requiredString('a group name'),
    memberIds: userIdListField(),
    portraitUri: z.optional(requiredString('a non-empty portrait URI').check(z.maxLength(256, { error: 'expected at most 256 characters' }))),
  }),
  run: ({ input, caller }) => createGroup(deps, caller.userId, input),
});
