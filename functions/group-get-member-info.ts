import * as z from 'zod/mini';
import { deps } from '#lib/app/settings.ts';
import { endpoint } from '#lib/app/http.ts';
import { getMemberInfo } from '#lib/domain/settings.ts';
import { groupIdField, userIdField } from '#lib/http/fields.ts';

/** POST /group/get_member_info — a member's card, for members of the group (protection hides contacts from plain members). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), memberId: userIdField() }),
  run: ({ input, caller }) => getMemberInfo(deps, caller.userId, input),
});
