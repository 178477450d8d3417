import * as z from 'zod/mini';
import { deps } from '#lib/app/invitations.ts';
import { endpoint } from '#lib/app/http.ts';
import { addMembers, MAX_ADD } from '#lib/domain/invitations.ts';
import { groupIdField, userIdListField } from '#lib/http/fields.ts';

/** POST /group/add — a member invites users: admitted, or waiting for them or for a manager. */
export const handler = endpoint({
  input: z.object({
    groupId: groupIdField(),
    memberIds: userIdListField(MAX_ADD),
  }),
  run: ({ input, caller }) => addMembers(deps, caller.userId, input),
});
