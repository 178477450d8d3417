import type { NoticeEntry } from './invitations.ts';

/**
 * GET /group/notice_info: the wire shape SealTalk clients parse (sealtalk-clients.md §19). Android
 * reads `id` (a string), `timestamp` and `createdAt`; iOS reads `createdTime` (ms) as the display
 * time. The group name and nicknames are the current ones.
 */
export const noticeView = ({ notice, status, group, requester, receiver }: NoticeEntry) => ({
  id: `${notice.groupId}-${notice.type}-${notice.receiverId}`,
  type: notice.type,
  status,
  timestamp: notice.timestamp,
  createdTime: notice.createdAt,
  createdAt: new Date(notice.createdAt).toISOString(),
  requester: { id: requester.userId, nickname: requester.nickname },
  receiver: { id: receiver.userId, nickname: receiver.nickname },
  group: { id: group.id, name: group.name },
});
