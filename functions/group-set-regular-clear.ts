import * as z from 'zod/mini';
import { deps } from '#lib/app/controls.ts';
import { endpoint } from '#lib/app/http.ts';
import { CLEAR_STATUSES, setRegularClear } from '#lib/domain/controls.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** One of the NUMBERS 0, 3, 7, 36 (the reference compares strictly: the string "3" is refused). */
const clearStatusField = () =>
  z.literal(CLEAR_STATUSES, {
    error: (iss) => (iss.input === undefined || iss.input === null ? 'required' : 'expected one of the numbers 0, 3, 7, 36'),
  });

/** POST /group/set_regular_clear — the owner switches scheduled message clearing (0 off, 3, 7 days, 36 hours). */
export const handler = endpoint({
  input: z.object({ groupId: groupIdField(), clearStatus: clearStatusField() }),
  run: ({ input, caller }) => setRegularClear(deps, caller.userId, input),
});
