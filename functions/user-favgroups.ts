import * as z from 'zod/mini';
import { deps } from '#lib/app/controls.ts';
import { endpoint } from '#lib/app/http.ts';
import { listFavourites } from '#lib/domain/controls.ts';

/**
 * GET /user/favgroups — the caller's saved groups: `{list, total, limit?, offset?}`; paged only when
 * `limit` and `offset` both parse as integers, both echoed as given.
 */
export const handler = endpoint({
  input: z.object({ limit: z.optional(z.string()), offset: z.optional(z.string()) }),
  run: ({ input, caller }) => listFavourites(deps, caller.userId, input),
});
