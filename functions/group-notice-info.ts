import * as z from 'zod/mini';
import { deps } from '#lib/app/invitations.ts';
import { endpoint } from '#lib/app/http.ts';
import { listNotices } from '#lib/domain/invitations.ts';
import { noticeView } from '#lib/domain/notice-views.ts';

/** GET /group/notice_info — the caller's invitations and join requests, newest first. */
export const handler = endpoint({
  input: z.object({}),
  run: async ({ caller }) => (await listNotices(deps, caller.userId)).map(noticeView),
});
