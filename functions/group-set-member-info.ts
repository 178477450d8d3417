import * as z from 'zod/mini';
import { deps } from '#lib/app/settings.ts';
import { endpoint } from '#lib/app/http.ts';
import { codePointLength } from '#lib/domain/text.ts';
import { setMemberInfo } from '#lib/domain/settings.ts';
import { anyString, groupIdField, userIdField } from '#lib/http/fields.ts';

/** A string of at most `max` code points; null or absent means "leave as is". */
const upTo = (max: number) => anyString('a string', 'expected a string').check(z.refine((s) => codePointLength(s) <= max, { error: `expected at most ${max} characters` }));

/** POST /group/set_member_info — the member themself, the owner or a manager sets a member's card; only given fields change. */
export const handler = endpoint({
  input: z.object({
    groupId: groupIdField(),
    memberId: userIdField(),
    groupNickname: z.nullish(anyString('a string', 'expected a string')),
    region: z.nullish(upTo(8)),
    phone: z.nullish(upTo(32)),
    WeChat: z.nullish(upTo(64)),
    Alipay: z.nullish(upTo(64)),
    memberDesc: z.nullish(z.array(upTo(80), { error: 'expected an array of strings' }).check(z.refine((list) => list.length <= 10, { error: 'expected at most 10 entries' }))),
  }),
  run: ({ input, caller }) => setMemberInfo(deps, caller.userId, input),
});
