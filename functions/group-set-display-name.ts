import * as z from 'zod/mini';
import { deps } from '#lib/app/settings.ts';
import { endpoint } from '#lib/app/http.ts';
import { setDisplayName } from '#lib/domain/settings.ts';
import { groupIdField, textField } from '#lib/http/fields.ts';

/** POST /group/set_display_name — a member sets their own card name in the group ("" allowed). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), displayName: textField() }),
  run: ({ input, caller }) => setDisplayName(deps, caller.userId, input),
});
