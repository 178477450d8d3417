import * as z from 'zod/mini';
import { deps } from '#lib/app/settings.ts';
import { endpoint } from '#lib/app/http.ts';
import { setMemberProtection } from '#lib/domain/settings.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/set_member_protection — the owner or a manager switches member protection (1 on, 0 off). */
export const handler = endpoint({
  input: z.object({
    groupId: groupIdField(),
    memberProtection: z.literal([0, 1], {
      error: (iss) => (iss.input === undefined || iss.input === null ? 'required' : 'expected 0 or 1'),
    }),
  }),
  run: ({ input, caller }) => setMemberProtection(deps, caller.userId, input),
});
