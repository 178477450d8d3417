import * as z from 'zod/mini';
import { deps } from '#lib/app/groups.ts';
import { endpoint } from '#lib/app/http.ts';
import { getGroup } from '#lib/domain/groups.ts';
import { groupView } from '#lib/domain/views.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** GET /group/{id} — anyone may read a group; a dismissed one comes back with `deletedAt`. */
export const handler = endpoint({
  input: z.object({ id: groupIdField() }),
  run: async ({ input }) => groupView(await getGroup(deps, input.id)),
});
