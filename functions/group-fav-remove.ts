import * as z from 'zod/mini';
import { deps } from '#lib/app/controls.ts';
import { endpoint } from '#lib/app/http.ts';
import { removeFavourite } from '#lib/domain/controls.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** DELETE /group/fav (JSON body `{groupId}`) — forgets a saved group; always 200. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input, caller }) => removeFavourite(deps, caller.userId, input),
});
