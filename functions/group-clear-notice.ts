import * as z from 'zod/mini';
import { deps } from '#lib/app/invitations.ts';
import { endpoint } from '#lib/app/http.ts';
import { clearNotices } from '#lib/domain/invitations.ts';

/** POST /group/clear_notice — empties the caller's notice list (the body may be empty or absent). */
export const handler = endpoint({
  input: z.object({}),
  run: ({ caller }) => clearNotices(deps, caller.userId),
});
