import * as z from 'zod/mini';
import { preprocess } from '#lib/zod.ts';
import { deps } from '#lib/app/controls.ts';
import { endpoint } from '#lib/app/http.ts';
import { muteAll } from '#lib/domain/controls.ts';
import { groupIdField, userIdField } from '#lib/http/fields.ts';

/** 1 mute, 0 unmute: the number (what clients send), also the strings "0"/"1" (the reference coerces). */
const muteStatusField = () =>
  preprocess(
    (value) => (value === '0' ? 0 : value === '1' ? 1 : value),
    z.literal([0, 1], { error: (iss) => (iss.input === undefined || iss.input === null ? 'required' : 'expected 0 or 1') }),
  );

/** Who may still speak: an array of user ids, or one id (Android sends a single string). */
const speakersField = () => z.union([userIdField(), z.array(userIdField())], { error: 'expected a user id or an array of user ids' });

/** POST /group/mute_all — the owner or a manager mutes or unmutes the whole group. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), muteStatus: muteStatusField(), userId: z.optional(speakersField()) }),
  run: ({ input, caller }) => muteAll(deps, caller.userId, input),
});
