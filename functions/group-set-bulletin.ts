import * as z from 'zod/mini';
import { deps } from '#lib/app/settings.ts';
import { endpoint } from '#lib/app/http.ts';
import { setBulletin } from '#lib/domain/settings.ts';
import { anyString, groupIdField } from '#lib/http/fields.ts';

const optionalText = () => z.nullish(anyString('a string', 'expected a string'));

/** POST /group/set_bulletin — the owner or a manager publishes a bulletin: `content` when non-empty, else `bulletin` ("" allowed). */
export const handler = endpoint({
  input: z.pipe(
    z.object({ groupId: groupIdField(), content: optionalText(), bulletin: optionalText() }).check(
      z.superRefine(({ content, bulletin }, ctx) => {
        if (content || typeof bulletin === 'string') return;
        if (content === '') ctx.addIssue({ code: 'custom', path: ['content'], message: 'expected a non-empty bulletin' });
        else ctx.addIssue({ code: 'custom', path: ['bulletin'], message: 'required' });
      }),
    ),
    z.transform(({ groupId, content, bulletin }) =>
      content ? { groupId, text: content, field: 'content' as const } : { groupId, text: bulletin ?? '', field: 'bulletin' as const },
    ),
  ),
  run: ({ input, caller }) => setBulletin(deps, caller.userId, input),
});
