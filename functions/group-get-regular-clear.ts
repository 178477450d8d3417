import * as z from 'zod/mini';
import { deps } from '#lib/app/controls.ts';
import { endpoint } from '#lib/app/http.ts';
import { getRegularClear } from '#lib/domain/controls.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/get_regular_clear — `{"clearStatus":n}` of a group, readable like GET /group/{id}. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input }) => getRegularClear(deps, input.groupId),
});
