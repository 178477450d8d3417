/**
 * The domain's view of groups, members and users. Pure types: the store parses its items into
 * these with zod; the domain never sees DynamoDB.
 */

/** Roles as the SealTalk clients know them: 0 owner, 1 member, 2 manager. */
export const Role = { owner: 0, member: 1, manager: 2 } as const;
export type Role = (typeof Role)[keyof typeof Role];

/**
 * `creating` while a large group is written in chunks (invisible), `abandoned` once the janitor gave
 * up such a creation (invisible, being undone), `dismissed` once dismissed.
 */
export type GroupStatus = 'creating' | 'abandoned' | 'active' | 'dismissed';

export interface Group {
  id: string;
  name: string;
  portraitUri: string;
  /** The owner (the reference's `creatorId`): exactly one, always a member while the group is active. */
  creatorId: string;
  /** The managers (role 2), kept in the same transactions as their member items' roles. */
  managerIds: string[];
  memberCount: number;
  maxMemberCount: number;
  /** 0 = approval needed for invites by plain members, 1 = off (the reference's inverted flag). */
  certiStatus: number;
  isMute: number;
  /** Members (besides the owner and managers) who may still speak while the group is muted. */
  muteWhitelist: string[];
  memberProtection: number;
  /** Regular clearing: 0 off, 3 (days), 7 (days), 36 (hours). */
  clearStatus: number;
  /** Epoch ms clearing was last switched on or changed (null while off). */
  clearTimeAt: number | null;
  bulletin: string | null;
  bulletinTime: number | null;
  /** How many bulletins were published: the `id` of the latest (an int32 counter per group). */
  bulletinCount: number;
  copiedTime: number;
  status: GroupStatus;
  /** ISO time of dismissal. */
  deletedAt: string | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export interface Member {
  groupId: string;
  userId: string;
  role: Role;
  displayName: string;
  groupNickname: string;
  /** Member info (set/get_member_info): absent until set. */
  region?: string;
  phone?: string;
  WeChat?: string;
  Alipay?: string;
  memberDesc?: string[];
  createdAt: number;
  updatedAt: number;
  timestamp: number;
}

/**
 * Whether members read agree with the group item read about roles, as every committed state does
 * (docs/invariants.md): role 0 exactly for `creatorId`, role 2 exactly for `managerIds`. Reads of
 * several items are not isolated from transactions; one that disagrees saw a transfer or role
 * change half-way and is read again. Only an active group is held to it.
 */
export const rolesAgree = (group: Group | null, members: Iterable<Member>): boolean => {
  if (!group || group.status !== 'active') return true;
  for (const member of members) {
    if ((member.role === Role.owner) !== (member.userId === group.creatorId)) return false;
    if ((member.role === Role.manager) !== group.managerIds.includes(member.userId)) return false;
  }
  return true;
};

/** Reads of items that must agree (`rolesAgree`) while they do not: a torn read lasts one commit. */
const TORN_READS = 5;

/**
 * Runs `read` again while `agree` says its items disagree, at most TORN_READS times in all; the
 * last read is answered as it is (the writes' conditions still guard what is decided on it).
 */
export const readAgreeing = async <T>(read: () => Promise<T>, agree: (value: T) => boolean): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    const value = await read();
    if (attempt >= TORN_READS || agree(value)) return value;
  }
};

export interface Profile {
  userId: string;
  nickname: string;
  portraitUri: string;
  phone: string;
  gender: string;
  stAccount: string;
  /** 0 = "ask me before adding me to a group", 1 = may be added directly (default). */
  groupVerify: number;
  /** Groups the user is a member of, kept exact by the same transactions that change membership. */
  groupCount: number;
}

/**
 * Profile fields a source may set (token claims, `UserProfileUpdated` events); absent fields are
 * left as they are.
 */
export interface ProfileFields {
  nickname?: string;
  portraitUri?: string;
  phone?: string;
  gender?: string;
  stAccount?: string;
  groupVerify?: 0 | 1;
}

/** A profile for a user never seen (no token, no profile event): empty names, defaults. */
export const unknownProfile = (userId: string): Profile => ({
  userId,
  nickname: '',
  portraitUri: '',
  phone: '',
  gender: '',
  stAccount: '',
  groupVerify: 1,
  groupCount: 0,
});

/** Notice types: 1 = waiting for the invitee, 2 = waiting for a manager. */
export const NoticeType = { invitee: 1, manager: 2 } as const;
export type NoticeType = (typeof NoticeType)[keyof typeof NoticeType];
/** Notice statuses: 0 ignored, 1 agreed, 2 waiting, 3 expired. */
export const NoticeStatus = { ignored: 0, agreed: 1, waiting: 2, expired: 3 } as const;
export type NoticeStatus = (typeof NoticeStatus)[keyof typeof NoticeStatus];

/**
 * An invitation (type 1: the invitee must consent) or a join request (type 2: the owner or a
 * manager must approve), one per (group, type, receiver): a repeated invitation updates it.
 */
export interface Notice {
  groupId: string;
  type: NoticeType;
  receiverId: string;
  requesterId: string;
  status: NoticeStatus;
  /** Whose notice list shows it: the invitee (type 1); the owner and managers when requested (type 2). */
  viewerIds: string[];
  /** Epoch ms of the first request. */
  createdAt: number;
  /** Epoch ms of the last change (request, decision, expiry). */
  timestamp: number;
  /**
   * Epoch SECONDS (the table's TTL unit, used as is everywhere): a waiting notice lapses then
   * (7 days after the request), a decided one is kept until then (30 days after the decision).
   * Past it, a notice is gone for every reader, whether or not TTL has deleted it yet.
   */
  expiresAt: number;
}

/** Why someone left: 0 kicked by the owner, 1 kicked by a manager, 2 quit. */
export const QuitReason = { kickedByOwner: 0, kickedByManager: 1, quit: 2 } as const;
export type QuitReason = (typeof QuitReason)[keyof typeof QuitReason];

/** One departure from a group, with the leaver's name and portrait as they were then. */
export interface ExitRecord {
  groupId: string;
  quitUserId: string;
  quitNickname: string;
  quitPortraitUri: string;
  quitReason: QuitReason;
  /** Epoch ms. */
  quitTime: number;
  operatorId: string | null;
  operatorName: string | null;
}
/** `userStatus` of create/add answers: 1 added, 2 waiting for a manager, 3 waiting for the invitee. */
export const AddStatus = { added: 1, waitingManager: 2, waitingInvitee: 3 } as const;
