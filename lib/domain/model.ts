/**
 * The domain's view of groups, members and users. Pure types: the store parses its items into
 * these with zod; the domain never sees DynamoDB.
 */

/** Roles as the SealTalk clients know them: 0 owner, 1 member, 2 manager. */
export const Role = { owner: 0, member: 1, manager: 2 } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** `creating` while a large group is written in chunks (invisible), `dismissed` once dismissed. */
export type GroupStatus = 'creating' | 'active' | 'dismissed';

export interface Group {
  id: string;
  name: string;
  portraitUri: string;
  creatorId: string;
  memberCount: number;
  maxMemberCount: number;
  /** 0 = approval needed for invites by plain members, 1 = off (the reference's inverted flag). */
  certiStatus: number;
  isMute: number;
  memberProtection: number;
  clearStatus: number;
  bulletin: string | null;
  bulletinTime: number | null;
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
  createdAt: number;
  updatedAt: number;
  timestamp: number;
}

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
/** Notice statuses: 0 ignored, 1 agreed, 2 waiting, 3 expired. */
export const NoticeStatus = { ignored: 0, agreed: 1, waiting: 2, expired: 3 } as const;
/** `userStatus` of create/add answers: 1 added, 2 waiting for a manager, 3 waiting for the invitee. */
export const AddStatus = { added: 1, waitingManager: 2, waitingInvitee: 3 } as const;
