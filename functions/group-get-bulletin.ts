import * as z from 'zod/mini';
import { deps } from '#lib/app/settings.ts';
import { endpoint } from '#lib/app/http.ts';
import { getBulletin } from '#lib/domain/settings.ts';
import { bulletinView } from '#lib/domain/settings-views.ts';

const optionalId = () => z.optional(z.string({ error: 'expected a group id' }));

/** GET /group/get_bulletin?groupId= (also the documented ?id=) — the latest bulletin; HTTP 402 when none. */
export const handler = endpoint({
  input: z.pipe(
    z.object({ groupId: optionalId(), id: optionalId() }).check(
      z.superRefine(({ groupId, id }, ctx) => {
        if (groupId || id) return;
        ctx.addIssue({ code: 'custom', path: ['groupId'], message: groupId === '' || id === '' ? 'expected a non-empty group id' : 'required' });
      }),
    ),
    z.transform(({ groupId, id }) => ({ groupId: groupId || id || '' })),
  ),
  run: async ({ input }) => bulletinView(await getBulletin(deps, input)),
});
