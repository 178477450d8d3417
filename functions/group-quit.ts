import * as z from 'zod/mini';
import { deps } from '#lib/app/departures.ts';
import { endpoint } from '#lib/app/http.ts';
import { quitGroup } from '#lib/domain/departures.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/quit — the caller leaves; an owner hands over to the longest-standing member, or dismisses as the last one. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField() }),
  run: ({ input, caller }) => quitGroup(deps, caller.userId, input),
});
