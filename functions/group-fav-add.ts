import * as z from 'zod/mini';
import { deps, endpoint } from '#lib/app.ts';
import { addFavourite } from '#lib/domain/controls.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/fav — a member saves the group to their contacts (405 when already saved). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input, caller }) => addFavourite(deps, caller.userId, input),
});
