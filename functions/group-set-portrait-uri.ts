import * as z from 'zod/mini';
import { deps } from '#lib/app/settings.ts';
import { endpoint } from '#lib/app/http.ts';
import { setPortraitUri } from '#lib/domain/settings.ts';
import { groupIdField, requiredString } from '#lib/http/fields.ts';

/** POST /group/set_portrait_uri — the owner sets the group portrait (an http(s) URL of 12–256 characters). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), portraitUri: requiredString('a non-empty portrait URI') }),
  run: ({ input, caller }) => setPortraitUri(deps, caller.userId, input),
});
