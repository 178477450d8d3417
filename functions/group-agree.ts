import * as z from 'zod/mini';
import { preprocess } from '#lib/zod.ts';
import { deps } from '#lib/app/invitations.ts';
import { endpoint } from '#lib/app/http.ts';
import { answerNotice } from '#lib/domain/invitations.ts';
import { groupIdField, userIdField } from '#lib/http/fields.ts';

/** 1 agree, 0 ignore: the number (what clients send), also the strings "0"/"1" (the reference's doc). */
const answerField = () =>
  preprocess(
    (value) => (value === '0' ? 0 : value === '1' ? 1 : value),
    z.literal([0, 1], { error: (iss) => (iss.input === undefined || iss.input === null ? 'required' : 'expected 0 or 1') }),
  );

/** POST /group/agree — the invitee, or the owner or a manager asked, agrees (1) or ignores (0). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), receiverId: userIdField(), status: answerField() }),
  run: ({ input, caller }) => answerNotice(deps, caller.userId, input),
});
