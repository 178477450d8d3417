import * as z from 'zod/mini';
import { lazySchema } from '../zod.ts';
import type { ExitRecord, Group, Member, Notice, Profile } from '../domain/model.ts';
import { keys } from './keys.ts';

/**
 * Item shapes of the single table, parsed with zod on every read (never `Item as Group`), and the
 * builders that turn domain objects into items.
 */

const int = z.number().check(z.int());

const groupItem = lazySchema(() =>
  z.object({
    groupId: z.string(),
    name: z.string(),
    portraitUri: z._default(z.string(), ''),
    creatorId: z.string(),
    managerIds: z._default(z.array(z.string()), []),
    memberCount: int.check(z.nonnegative()),
    maxMemberCount: int.check(z.positive()),
    certiStatus: z._default(int, 1),
    isMute: z._default(int, 0),
    muteWhitelist: z._default(z.array(z.string()), []),
    memberProtection: z._default(int, 0),
    clearStatus: z._default(int, 0),
    clearTimeAt: z._default(z.nullable(int), null),
    bulletin: z._default(z.nullable(z.string()), null),
    bulletinTime: z._default(z.nullable(int), null),
    bulletinCount: z._default(int.check(z.nonnegative()), 0),
    copiedTime: z._default(int, 0),
    status: z.enum(['creating', 'abandoned', 'active', 'dismissed']),
    deletedAt: z._default(z.nullable(z.string()), null),
    createdAt: int,
    updatedAt: int,
    version: int,
  }),
);

export const parseGroup = (item: Record<string, unknown>): Group => {
  const { groupId, ...rest } = z.parse(groupItem(), item);
  return { id: groupId, ...rest };
};

export const groupToItem = (g: Group) => {
  const { id, ...rest } = g;
  return { ...keys.group(id), kind: 'group', groupId: id, ...rest };
};

const memberItem = lazySchema(() =>
  z.object({
    groupId: z.string(),
    userId: z.string(),
    role: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    displayName: z._default(z.string(), ''),
    groupNickname: z._default(z.string(), ''),
    region: z.optional(z.string()),
    phone: z.optional(z.string()),
    WeChat: z.optional(z.string()),
    Alipay: z.optional(z.string()),
    memberDesc: z.optional(z.array(z.string())),
    createdAt: int,
    updatedAt: int,
    timestamp: int,
  }),
);

export const parseMember = (item: Record<string, unknown>): Member => z.parse(memberItem(), item);

export const memberToItem = (m: Member) => ({
  ...keys.member(m.groupId, m.userId),
  ...keys.memberGsi1(m.groupId, m.userId),
  kind: 'member',
  ...m,
});

const profileItem = lazySchema(() =>
  z.object({
    userId: z.string(),
    nickname: z._default(z.string(), ''),
    portraitUri: z._default(z.string(), ''),
    phone: z._default(z.string(), ''),
    gender: z._default(z.string(), ''),
    stAccount: z._default(z.string(), ''),
    groupVerify: z._default(int, 1),
    groupCount: z._default(int.check(z.nonnegative()), 0),
  }),
);

export const parseProfile = (item: Record<string, unknown>): Profile => z.parse(profileItem(), item);

const noticeItem = lazySchema(() =>
  z.object({
    groupId: z.string(),
    type: z.union([z.literal(1), z.literal(2)]),
    receiverId: z.string(),
    requesterId: z.string(),
    status: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
    viewerIds: z.array(z.string()),
    createdAt: int,
    timestamp: int,
    expiresAt: int,
  }),
);

export const parseNotice = (item: Record<string, unknown>): Notice => z.parse(noticeItem(), item);

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

const inboxItem = lazySchema(() =>
  z.object({ groupId: z.string(), type: z.union([z.literal(1), z.literal(2)]), receiverId: z.string() }),
);
export const parseInbox = (item: Record<string, unknown>) => z.parse(inboxItem(), item);

const exitItem = lazySchema(() =>
  z.object({
    groupId: z.string(),
    quitUserId: z.string(),
    quitNickname: z.string(),
    quitPortraitUri: z.string(),
    quitReason: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    quitTime: int,
    operatorId: z.nullable(z.string()),
    operatorName: z.nullable(z.string()),
  }),
);

export const parseExit = (item: Record<string, unknown>): ExitRecord => z.parse(exitItem(), item);

export const exitToItem = (e: ExitRecord) => ({ ...keys.exited(e.groupId, e.quitUserId), kind: 'exited', ...e });
