import * as z from 'zod';
import { deps, endpoint } from '#lib/app.ts';
import { getBulletin } from '#lib/domain/settings.ts';
import { bulletinView } from '#lib/domain/settings-views.ts';

const optionalId = () => z.string({ error: 'expected a group id' }).optional();

/** GET /group/get_bulletin?groupId= (also the documented ?id=) — the latest bulletin; HTTP 402 when none. */
export const handler = endpoint({
  input: z
    .object({ groupId: optionalId(), id: optionalId() })
    .superRefine(({ groupId, id }, ctx) => {
      if (groupId || id) return;
      ctx.addIssue({ code: 'custom', path: ['groupId'], message: groupId === '' || id === '' ? 'expected a non-empty group id' : 'required' });
    })
    .transform(({ groupId, id }) => ({ groupId: groupId || id || '' })),
  run: async ({ input }) => bulletinView(await getBulletin(deps, input)),
});
