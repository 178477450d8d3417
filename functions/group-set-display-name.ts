import * as z from 'zod/mini';
import { deps, endpoint } from '#lib/app.ts';
import { setDisplayName } from '#lib/domain/settings.ts';
import { groupIdField, textField } from '#lib/http/fields.ts';

/** POST /group/set_display_name — a member sets their own card name in the group ("" allowed). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), displayName: textField() }),
  run: ({ input, caller }) => setDisplayName(deps, caller.userId, input),
});
