import * as z from 'zod/mini';
import { deps, endpoint } from '#lib/app.ts';
import { getRegularClear } from '#lib/domain/controls.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/get_regular_clear — `{"clearStatus":n}` of a group, readable like GET /group/{id}. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input }) => getRegularClear(deps, input.groupId),
});
