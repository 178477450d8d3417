import * as z from 'zod';
import type { Group, Member, Profile } from '../domain/model.ts';
import type { Notice } from '../domain/ports.ts';
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
  memberCount: int.nonnegative(),
  maxMemberCount: int.positive(),
  certiStatus: int.default(1),
  isMute: int.default(0),
  memberProtection: int.default(0),
  clearStatus: int.default(0),
  bulletin: z.string().nullable().default(null),
  bulletinTime: int.nullable().default(null),
  copiedTime: int.default(0),
  status: z.enum(['creating', 'active', 'dismissed']),
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

export const noticeToItem = (n: Notice) => ({
  ...keys.notice(n.groupId, n.type, n.receiverId, n.viewerId),
  ...keys.noticeGsi1(n.viewerId, n.timestamp, n.groupId),
  kind: 'notice',
  ...n,
  // The table's TTL attribute is epoch seconds; readers compare it too, since TTL deletes lazily.
  expiresAt: Math.floor(n.expiresAt / 1000),
});
