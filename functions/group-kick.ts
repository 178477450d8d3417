import * as z from 'zod/mini';
import { deps } from '#lib/app/departures.ts';
import { endpoint } from '#lib/app/http.ts';
import { kickMembers } from '#lib/domain/departures.ts';
import { groupIdField, userIdListField } from '#lib/http/fields.ts';

/** POST /group/kick — the owner (anyone) or a manager (plain members) removes members. */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), memberIds: userIdListField() }),
  run: ({ input, caller }) => kickMembers(deps, caller.userId, input),
});
