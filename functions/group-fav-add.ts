import * as z from 'zod/mini';
import { deps } from '#lib/app/controls.ts';
import { endpoint } from '#lib/app/http.ts';
import { addFavourite } from '#lib/domain/controls.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/fav — a member saves the group to their contacts (405 when already saved). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input, caller }) => addFavourite(deps, caller.userId, input),
});
