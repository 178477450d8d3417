import * as z from 'zod/mini';
import { deps } from '#lib/app/settings.ts';
import { endpoint } from '#lib/app/http.ts';
import { setCertification } from '#lib/domain/settings.ts';
import { groupIdField } from '#lib/http/fields.ts';

/** POST /group/set_certification — the owner or a manager: 0 = approval needed, 1 = not (numbers only). */
export const handler = endpoint({
  input: z.object({
    groupId: groupIdField(),
    certiStatus: z.literal([0, 1], { error: (iss) => (iss.input === undefined || iss.input === null ? 'required' : 'expected 0 or 1') }),
  }),
  run: ({ input, caller }) => setCertification(deps, caller.userId, input),
});
