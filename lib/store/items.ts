import * as z from 'zod';
import type { ExitRecord, Group, Member, Notice, Profile } from '../domain/model.ts';
import { keys } from './keys.ts';

/**
 * Item shapes of the single table, parsed with zod on every read (never `Item as Group`), and the
 * builders that turn domain objects into items.
 */

const int = z.number().int();

const groupItem = z.object({
  groupId: z.string(),
  name: z.string(),
  portraitUri: z.string().default(''),
  creatorId: z.string(),
  managerIds: z.array(z.string()).default([]),
  memberCount: int.nonnegative(),
  maxMemberCount: int.positive(),
  certiStatus: int.default(1),
  isMute: int.default(0),
  muteWhitelist: z.array(z.string()).default([]),
  memberProtection: int.default(0),
  clearStatus: int.default(0),
  clearTimeAt: int.nullable().default(null),
  bulletin: z.string().nullable().default(null),
  bulletinTime: int.nullable().default(null),
  bulletinCount: int.nonnegative().default(0),
  copiedTime: int.default(0),
  status: z.enum(['creating', 'abandoned', 'active', 'dismissed']),
  deletedAt: z.string().nullable().default(null),
  createdAt: int,
  updatedAt: int,
  version: int,
});

export const parseGroup = (item: Record<string, unknown>): Group => {
  const { groupId, ...rest } = groupItem.parse(item);
  return { id: groupId, ...rest };
};

export const groupToItem = (g: Group) => {
  const { id, ...rest } = g;
  return { ...keys.group(id), kind: 'group', groupId: id, ...rest };
};

const memberItem = z.object({
  groupId: z.string(),
  userId: z.string(),
  role: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  displayName: z.string().default(''),
  groupNickname: z.string().default(''),
  region: z.string().optional(),
  phone: z.string().optional(),
  WeChat: z.string().optional(),
  Alipay: z.string().optional(),
  memberDesc: z.array(z.string()).optional(),
  createdAt: int,
  updatedAt: int,
  timestamp: int,
});

export const parseMember = (item: Record<string, unknown>): Member => memberItem.parse(item);

export const memberToItem = (m: Member) => ({
  ...keys.member(m.groupId, m.userId),
  ...keys.memberGsi1(m.groupId, m.userId),
  kind: 'member',
  ...m,
});

const profileItem = z.object({
  userId: z.string(),
  nickname: z.string().default(''),
  portraitUri: z.string().default(''),
  phone: z.string().default(''),
  gender: z.string().default(''),
  stAccount: z.string().default(''),
  groupVerify: int.default(1),
  groupCount: int.nonnegative().default(0),
});

export const parseProfile = (item: Record<string, unknown>): Profile => profileItem.parse(item);

const noticeItem = z.object({
  groupId: z.string(),
  type: z.union([z.literal(1), z.literal(2)]),
  receiverId: z.string(),
  requesterId: z.string(),
  status: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  viewerIds: z.array(z.string()),
  createdAt: int,
  timestamp: int,
  expiresAt: int,
});

export const parseNotice = (item: Record<string, unknown>): Notice => noticeItem.parse(item);

export const noticeToItem = (n: Notice) => ({ ...keys.notice(n.groupId, n.type, n.receiverId), kind: 'notice', ...n });

/** A viewer's pointer to a notice; it outlives any state of the notice (the notice decides what shows). */
export const inboxToItem = (viewerId: string, n: Pick<Notice, 'groupId' | 'type' | 'receiverId' | 'expiresAt'>) => ({
  ...keys.inbox(viewerId, n.groupId, n.type, n.receiverId),
  kind: 'inbox',
  viewerId,
  groupId: n.groupId,
  type: n.type,
  receiverId: n.receiverId,
  expiresAt: n.expiresAt + INBOX_GRACE_S,
});

/** Inbox pointers stay this long past their notice's expiry (a decision extends the notice). */
export const INBOX_GRACE_S = 31 * 24 * 3600;

const inboxItem = z.object({ groupId: z.string(), type: z.union([z.literal(1), z.literal(2)]), receiverId: z.string() });
export const parseInbox = (item: Record<string, unknown>) => inboxItem.parse(item);

const exitItem = z.object({
  groupId: z.string(),
  quitUserId: z.string(),
  quitNickname: z.string(),
  quitPortraitUri: z.string(),
  quitReason: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  quitTime: int,
  operatorId: z.string().nullable(),
  operatorName: z.string().nullable(),
});

export const parseExit = (item: Record<string, unknown>): ExitRecord => exitItem.parse(item);

export const exitToItem = (e: ExitRecord) => ({ ...keys.exited(e.groupId, e.quitUserId), kind: 'exited', ...e });
