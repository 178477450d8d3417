import * as z from 'zod/mini';
import { deps } from '#lib/app/departures.ts';
import { endpoint } from '#lib/app/http.ts';
import { listExited } from '#lib/domain/departures.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/exited_list — the owner and managers read who left the group, newest first. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input, caller }) => listExited(deps, caller.userId, input),
});
