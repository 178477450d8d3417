/**
 * Invitations and admissions: POST /group/add, /group/join, /group/agree, GET /group/notice_info,
 * POST /group/clear_notice. Rules: docs/decisions.md; flow: the SealTalk reference's §6.
 *
 * Every operation reads what it decides on (the group, memberships, notices), decides, and commits
 * the whole change in one transaction (or, for a large add, ordered chunks, each atomic with its own
 * events) whose conditions re-check everything the decision rested on. When a condition shows that
 * the read went stale (the certification switch, a role, a notice changed meanwhile), the operation
 * reads again and decides again.
 */

import { domainEvent, type DomainEvent } from '../events/index.ts';
import { BusinessCodes, Forbidden, InvalidInput, NotAllowed, NotFound, Rejected, type DomainError } from './errors.ts';
import { KEPT_CHANGING } from './stale.ts';
import { UNKNOWN_GROUP } from './groups.ts';
import { isPossibleGroupId } from './ids.ts';
import {
  AddStatus,
  NoticeStatus,
  NoticeType,
  Role,
  type Group,
  type Member,
  type Notice,
  type Profile,
} from './model.ts';
import type { InvitationsDeps } from './ports.ts';

/** The one notice of a (group, type, receiver). */
export interface NoticeKey {
  groupId: string;
  type: NoticeType;
  receiverId: string;
}

/** A status change of an existing notice (a decision, or an expiry because its receiver was admitted). */
export interface NoticeUpdate {
  key: NoticeKey;
  status: NoticeStatus;
  timestamp: number;
  /** Epoch seconds: when the decided notice is gone (retention). */
  expiresAt: number;
}

/**
 * One user becoming a plain member: their member item and their waiting notices to expire (their
 * exit record, if any, is deleted in the same transaction).
 */
export interface Admission {
  member: Member;
  expire: NoticeUpdate[];
}

/** What a change rests on; every transaction of the change re-checks it. */
export interface Expectations {
  /** The group's certification switch is still this. */
  certiStatus?: number;
  /** This user is still the owner or a manager (the group item). */
  staff?: string;
  /** This user is still a member with this role. */
  member?: { userId: string; role: Role };
  /** These users are still not members. */
  absent?: string[];
}

/** The part of a change one transaction commits, for the events that describe it. */
export interface ChangePart {
  admitted: string[];
  notices: Notice[];
}

export interface InvitationChange {
  groupId: string;
  now: number;
  maxUserGroups: number;
  /** The group's `maxMemberCount` as read (admissions stay within it; a change of it makes the read stale). */
  maxMemberCount: number;
  expect: Expectations;
  admit: Admission[];
  /** Notices written (an upsert of the canonical notice and one pointer per viewer). */
  notices: Notice[];
  /** The notice being answered: changed only while it is waiting, unexpired (and addressed to `viewerId`). */
  answer?: { update: NoticeUpdate; viewerId?: string };
  /** The events of each committed part. */
  events: (part: ChangePart) => DomainEvent[];
}

/** Why a change's transaction was refused. */
export type Conflict =
  /** The group condition failed; `group` is the group as it was (null if missing), `delta` the seats asked. */
  | { kind: 'group'; group: Group | null; delta: number }
  /** The user is already a member. */
  | { kind: 'member'; userId: string }
  /** The user is at their group limit. */
  | { kind: 'limit'; userId: string }
  /** The acting member's membership or role changed. */
  | { kind: 'actor' }
  /** The answered notice is no longer waiting, unexpired and addressed to the caller. */
  | { kind: 'answer' }
  /** A notice to expire is gone, or the transaction kept colliding with concurrent ones. */
  | { kind: 'stale' };

/** Raised by the store when a change's transaction was refused. */
export class InvitationConflict extends Error {
  constructor(readonly conflict: Conflict) {
    super(`invitation change refused: ${conflict.kind}`);
    this.name = 'InvitationConflict';
  }
}

/**
 * Raised by the store when a change of several transactions failed after some of them committed
 * (each with its events): `committed` is what landed, `failure` why the next one did not.
 */
export class PartlyCommitted extends Error {
  constructor(
    readonly committed: ChangePart,
    readonly failure: unknown,
  ) {
    super(`part of the change committed, then: ${failure instanceof Error ? failure.message : String(failure)}`);
    this.name = 'PartlyCommitted';
  }
}

/** What these operations need from storage (implemented in lib/store/invitations.ts). */
export interface InvitationStore {
  /** The members among `userIds` (strongly consistent), by user id. */
  members(groupId: string, userIds: readonly string[]): Promise<Map<string, Member>>;
  /** The notices that exist among `keys` (strongly consistent), whatever their state. */
  notices(keys: readonly NoticeKey[]): Promise<Notice[]>;
  /**
   * Commits the change: one transaction, or ordered chunks of at most 100 items when it does not fit
   * (admissions first), each atomic with its own events. Throws `InvitationConflict` when a
   * condition failed (later chunks are then not written), wrapped in `PartlyCommitted` when earlier
   * chunks had committed.
   */
  commit(change: InvitationChange): Promise<void>;
  /** The notices in a user's notice list (their pointers). */
  inbox(viewerId: string): Promise<NoticeKey[]>;
  /** Empties a user's notice list (the notices stay for their other viewers). */
  clearInbox(viewerId: string): Promise<void>;
}

export const EXISTING_MEMBER = 'Should not add exist member to the group.';
export const NOT_MEMBER = 'Current user is not group member.';
export const NOTICE_NOT_FOUND = 'Unknown notice.';
export const NOT_ADDRESSED = 'Only the owner or a manager this request was sent to can answer it.';
export const groupFull = (max: number) => `Group's member count is out of max group member count limit (${max}).`;
const callerAtLimit = (max: number) => `Current user's group count is out of max user group count limit (${max}).`;
const userAtLimit = (field: string, max: number) => `${field}: user's group count is out of max user group count limit (${max}).`;

/** At most this many users per add. */
export const MAX_ADD = 100;
/** A decided (or expired) notice stays visible this long after the decision. */
export const DECIDED_RETENTION_S = 30 * 24 * 3600;
/** Reads and decisions are redone at most this many times when a condition shows they went stale. */
const MAX_ATTEMPTS = 4;

const seconds = (ms: number) => Math.floor(ms / 1000);
/** Whether a notice is still there for its readers (TTL deletes lazily: always compare). */
const isLive = (n: Notice, now: number) => n.expiresAt > seconds(now);
const isWaiting = (n: Notice, now: number) => n.status === NoticeStatus.waiting && isLive(n, now);
const isStaff = (g: Group, userId: string) => g.creatorId === userId || g.managerIds.includes(userId);
/** Who approves join requests: the owner and the managers. */
const staffOf = (g: Group) => [g.creatorId, ...g.managerIds];
const noticeKey = (groupId: string, type: NoticeType, receiverId: string): NoticeKey => ({ groupId, type, receiverId });
const sameKey = (n: Notice, k: NoticeKey) => n.groupId === k.groupId && n.type === k.type && n.receiverId === k.receiverId;

/** A decision (or expiry) of a notice at `now`: kept for the retention period. */
const decided = (key: NoticeKey, status: NoticeStatus, now: number): NoticeUpdate => ({
  key,
  status,
  timestamp: now,
  expiresAt: seconds(now) + DECIDED_RETENTION_S,
});

/** A waiting notice, replacing any earlier one of the same key (its first-request time is kept while it waits). */
const waitingNotice = (
  deps: InvitationsDeps,
  now: number,
  fields: { groupId: string; type: NoticeType; receiverId: string; requesterId: string; viewerIds: string[] },
  existing: Notice | undefined,
): Notice => ({
  ...fields,
  status: NoticeStatus.waiting,
  createdAt: existing && isWaiting(existing, now) ? existing.createdAt : now,
  timestamp: now,
  expiresAt: seconds(now) + deps.limits.noticeTtlS,
});

const newMember = (groupId: string, userId: string, now: number): Member => ({
  groupId,
  userId,
  role: Role.member,
  displayName: '',
  groupNickname: '',
  createdAt: now,
  updatedAt: now,
  timestamp: now,
});

/** The receiver's waiting notices in the group, expired because they became a member. */
const expiryOf = (notices: Notice[], receiverId: string, now: number): NoticeUpdate[] =>
  notices
    .filter((n) => n.receiverId === receiverId && isWaiting(n, now))
    .map((n) => decided(noticeKey(n.groupId, n.type, n.receiverId), NoticeStatus.expired, now));

/** The group, active; 404 for unknown, impossible, half-created and dismissed groups. */
const activeGroup = (group: Group | null): Group => {
  if (!group || group.status !== 'active') throw new NotFound(UNKNOWN_GROUP);
  return group;
};

/** A change refused because what it was decided on changed: read and decide again. */
class StaleDecision extends Error {}

/**
 * Commits `change`, turning a refusal into the answer it means; `limit` words the answer for a user at
 * their group limit. When the change failed after part of it committed, `committed` hears of that
 * part first.
 */
const commit = async (
  deps: InvitationsDeps,
  change: InvitationChange,
  limit: (userId: string) => DomainError,
  committed?: (part: ChangePart) => void,
): Promise<void> => {
  try {
    await deps.invitations.commit(change);
  } catch (thrown) {
    const partly = thrown instanceof PartlyCommitted;
    if (partly) committed?.(thrown.committed);
    const error = partly ? thrown.failure : thrown;
    if (!(error instanceof InvitationConflict)) throw error;
    const c = error.conflict;
    // After part of the change committed, a user who became a member meanwhile is left out on the next read.
    if (c.kind === 'member' && !partly) throw new InvalidInput(EXISTING_MEMBER);
    if (c.kind === 'limit') throw limit(c.userId);
    if (c.kind === 'group') {
      activeGroup(c.group);
      if (c.group && c.delta > 0 && c.group.memberCount + c.delta > c.group.maxMemberCount) {
        throw new InvalidInput(groupFull(c.group.maxMemberCount));
      }
    }
    throw new StaleDecision(c.kind);
  }
};

/** Runs read → decide → commit again while a commit shows the reads went stale. */
const decideFresh = async <T>(attempt: () => Promise<T>): Promise<T> => {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof StaleDecision)) throw error;
      // Still changing after every attempt: a 405 "try again", as everywhere else, never a 500.
      if (i >= MAX_ATTEMPTS) throw new NotAllowed(KEPT_CHANGING);
    }
  }
};

export interface AddResult {
  id: string;
  status: number;
}

/**
 * POST /group/add. Members only. Users who asked to be asked (`groupVerify` 0) get an invitation
 * (3); the others wait for the owner or a manager when a plain member invites into a certified group
 * (2), or are admitted (1). Opened users are listed first, as the reference does.
 *
 * An add too large for one transaction commits in ordered chunks, each with its own events. When a
 * concurrent change stops a later chunk, what committed stays (it is announced already): the add
 * reads and decides again for the users not yet handled (leaving out any who became members
 * meanwhile), and if that cannot go on (the group filled up, the caller was removed, ...) it answers
 * 200 with the users it did add or invite, never an error over a change it partly made.
 */
export const addMembers = async (deps: InvitationsDeps, callerId: string, input: { groupId: string; memberIds: string[] }): Promise<AddResult[]> => {
  const requested = [...new Set(input.memberIds)];
  /** Users this request added or invited in chunks that committed before a failure. */
  const done = new Map<string, AddResult['status']>();
  const record = (part: ChangePart) => {
    for (const userId of part.admitted) done.set(userId, AddStatus.added);
    for (const n of part.notices) done.set(n.receiverId, n.type === NoticeType.invitee ? AddStatus.waitingInvitee : AddStatus.waitingManager);
  };
  /** Each handled user once, in the request's order, invitations first (the reference's order). */
  const results = (statuses: ReadonlyMap<string, AddResult['status']>): AddResult[] => {
    const handled = requested.flatMap((id) => {
      const status = statuses.get(id);
      return status === undefined ? [] : [{ id, status }];
    });
    return [...handled.filter((r) => r.status === AddStatus.waitingInvitee), ...handled.filter((r) => r.status !== AddStatus.waitingInvitee)];
  };
  try {
    return await decideFresh(async () => {
      const pending = requested.filter((u) => !done.has(u));
      const handled = pending.length === 0 ? new Map<string, AddResult['status']>() : await addOnce(deps, callerId, input, pending, done.size > 0, record);
      return results(new Map([...done, ...handled]));
    });
  } catch (error) {
    if (done.size === 0) throw error;
    return results(done);
  }
};

/**
 * One read → decide → commit of an add, for the `pending` users (`partly`: after part of this add
 * committed); answers the status of each user it handled. Hears of chunks that committed before a
 * failure through `record`.
 */
const addOnce = async (
  deps: InvitationsDeps,
  callerId: string,
  input: { groupId: string; memberIds: string[] },
  pending: string[],
  partly: boolean,
  record: (part: ChangePart) => void,
): Promise<Map<string, AddResult['status']>> => {
  const { groupId } = input;
  if (!isPossibleGroupId(groupId)) throw new NotFound(UNKNOWN_GROUP);
  const [found, members, profiles, notices] = await Promise.all([
    deps.groups.get(groupId),
    deps.invitations.members(groupId, [callerId, ...pending]),
    deps.users.getProfiles(pending),
    deps.invitations.notices(pending.flatMap((u) => [noticeKey(groupId, NoticeType.invitee, u), noticeKey(groupId, NoticeType.manager, u)])),
  ]);
  // Decided after the reads (as every change): whatever they saw is older than this change.
  const now = deps.now();
  const group = activeGroup(found);
  const caller = members.get(callerId);
  if (!caller) throw new Forbidden(NOT_MEMBER);
  // A member among the users is the reference's 400; once part of this add committed, users who
  // became members meanwhile are left out instead.
  if (!partly && pending.some((u) => members.has(u))) throw new InvalidInput(EXISTING_MEMBER);
  const targets = pending.filter((u) => !members.has(u));

  const { maxUserGroups } = deps.limits;
  const field = (userId: string) => `memberIds[${input.memberIds.indexOf(userId)}]`;
  const profile = (userId: string) => profiles.get(userId) as Profile;
  const opened = targets.filter((u) => profile(u).groupVerify === 0);
  const closed = targets.filter((u) => profile(u).groupVerify !== 0);
  const needsApproval = caller.role === Role.member && group.certiStatus === 0;
  const admitted = needsApproval ? [] : closed;
  if (group.memberCount + admitted.length > group.maxMemberCount) throw new InvalidInput(groupFull(group.maxMemberCount));
  const atLimit = admitted.find((u) => profile(u).groupCount >= maxUserGroups);
  if (atLimit !== undefined) throw new Rejected(BusinessCodes.userGroupLimit, userAtLimit(field(atLimit), maxUserGroups));

  const existing = (type: NoticeType, u: string) => notices.find((n) => sameKey(n, noticeKey(groupId, type, u)));
  const invite = (type: NoticeType, receiverId: string, viewerIds: string[]) =>
    waitingNotice(deps, now, { groupId, type, receiverId, requesterId: callerId, viewerIds }, existing(type, receiverId));
  const staff = staffOf(group);

  await commit(
    deps,
    {
      groupId,
      now,
      maxUserGroups,
      maxMemberCount: group.maxMemberCount,
      expect: { certiStatus: group.certiStatus, member: { userId: callerId, role: caller.role } },
      admit: admitted.map((u) => ({ member: newMember(groupId, u, now), expire: expiryOf(notices, u, now) })),
      notices: [
        ...opened.map((u) => invite(NoticeType.invitee, u, [u])),
        ...(needsApproval ? closed.map((u) => invite(NoticeType.manager, u, staff)) : []),
      ],
      events: (part) => {
        const events: DomainEvent[] = [];
        for (const type of [NoticeType.invitee, NoticeType.manager]) {
          const receiverIds = part.notices.filter((n) => n.type === type).map((n) => n.receiverId);
          if (receiverIds.length === 0) continue;
          events.push(
            domainEvent('GroupInvited', {
              groupId,
              requesterId: callerId,
              receiverIds,
              recipientIds: type === NoticeType.invitee ? receiverIds : staff,
              noticeType: type,
              status: NoticeStatus.waiting,
              timestamp: now,
            }),
          );
        }
        if (part.admitted.length > 0) {
          events.push(domainEvent('MembersJoined', { groupId, operatorId: callerId, memberIds: part.admitted, timestamp: now }));
        }
        return events;
      },
    },
    (u) => new Rejected(BusinessCodes.userGroupLimit, userAtLimit(field(u), maxUserGroups)),
    record,
  );

  return new Map<string, AddResult['status']>([
    ...opened.map((id): [string, AddResult['status']] => [id, AddStatus.waitingInvitee]),
    ...closed.map((id): [string, AddResult['status']] => [id, needsApproval ? AddStatus.waitingManager : AddStatus.added]),
  ]);
};

/**
 * POST /group/join. The caller joins an active group; with certification on (certiStatus 0) they
 * ask the owner and managers instead (`status` 2), else they are admitted (`status` 1).
 * Two round trips: the group and the caller's notices in parallel; then the commit.
 */
export const joinGroup = (deps: InvitationsDeps, callerId: string, input: { groupId: string }): Promise<{ status: number }> =>
  decideFresh(async () => {
    const { groupId } = input;
    if (!isPossibleGroupId(groupId)) throw new NotFound(UNKNOWN_GROUP);
    const [found, notices] = await Promise.all([
      deps.groups.get(groupId),
      deps.invitations.notices([noticeKey(groupId, NoticeType.invitee, callerId), noticeKey(groupId, NoticeType.manager, callerId)]),
    ]);
    const now = deps.now();
    const group = activeGroup(found);
    if (group.memberCount >= group.maxMemberCount) throw new InvalidInput(groupFull(group.maxMemberCount));
    const { maxUserGroups } = deps.limits;
    const limit = () => new Rejected(BusinessCodes.userGroupLimit, callerAtLimit(maxUserGroups));

    if (group.certiStatus === 0) {
      const staff = staffOf(group);
      const request = waitingNotice(
        deps,
        now,
        { groupId, type: NoticeType.manager, receiverId: callerId, requesterId: callerId, viewerIds: staff },
        notices.find((n) => n.type === NoticeType.manager),
      );
      await commit(
        deps,
        {
          groupId,
          now,
          maxUserGroups,
          maxMemberCount: group.maxMemberCount,
          expect: { certiStatus: group.certiStatus, absent: [callerId] },
          admit: [],
          notices: [request],
          events: () => [
            domainEvent('GroupInvited', {
              groupId,
              requesterId: callerId,
              receiverIds: [callerId],
              recipientIds: staff,
              noticeType: NoticeType.manager,
              status: NoticeStatus.waiting,
              timestamp: now,
            }),
          ],
        },
        limit,
      );
      return { status: AddStatus.waitingManager };
    }

    await commit(
      deps,
      {
        groupId,
        now,
        maxUserGroups,
        maxMemberCount: group.maxMemberCount,
        expect: { certiStatus: group.certiStatus },
        admit: [{ member: newMember(groupId, callerId, now), expire: expiryOf(notices, callerId, now) }],
        notices: [],
        events: () => [domainEvent('MembersJoined', { groupId, operatorId: callerId, memberIds: [callerId], timestamp: now })],
      },
      limit,
    );
    return { status: AddStatus.added };
  });

export interface AnswerInput {
  groupId: string;
  receiverId: string;
  /** 1 agree, 0 ignore. */
  status: 0 | 1;
}

/**
 * POST /group/agree. The invitee answers their invitation (caller = receiver, type 1); the owner or
 * a manager the request was sent to answers a join request (type 2). Only a waiting, unexpired
 * notice can be answered. Agreeing admits the receiver (the original inviter is the operator), unless
 * the invitee consented to an invitation by a plain member into a certified group: then the owner and
 * managers must approve (a type-2 notice). Two round trips: the group and the notices in
 * parallel; then the commit.
 */
export const answerNotice = (deps: InvitationsDeps, callerId: string, input: AnswerInput): Promise<void> =>
  decideFresh(async () => {
    const { groupId, receiverId, status } = input;
    if (!isPossibleGroupId(groupId)) throw new NotFound(UNKNOWN_GROUP);
    const type = callerId === receiverId ? NoticeType.invitee : NoticeType.manager;
    const other = type === NoticeType.invitee ? NoticeType.manager : NoticeType.invitee;
    const [found, notices] = await Promise.all([
      deps.groups.get(groupId),
      deps.invitations.notices([noticeKey(groupId, type, receiverId), noticeKey(groupId, other, receiverId)]),
    ]);
    const now = deps.now();
    const group = activeGroup(found);
    const key = noticeKey(groupId, type, receiverId);
    const notice = notices.find((n) => sameKey(n, key));
    if (!notice || !isLive(notice, now)) throw new Rejected(BusinessCodes.notFound, NOTICE_NOT_FOUND);
    if (type === NoticeType.manager && !(notice.viewerIds.includes(callerId) && isStaff(group, callerId))) {
      throw new Forbidden(NOT_ADDRESSED);
    }
    if (notice.status !== NoticeStatus.waiting) {
      throw new Forbidden(notice.status === NoticeStatus.expired ? 'This notice has expired.' : 'This notice has already been answered.');
    }

    const { maxUserGroups } = deps.limits;
    const limit = () =>
      new Rejected(
        BusinessCodes.userGroupLimit,
        type === NoticeType.invitee ? callerAtLimit(maxUserGroups) : userAtLimit('receiverId', maxUserGroups),
      );
    const answer = {
      update: decided(key, status === 1 ? NoticeStatus.agreed : NoticeStatus.ignored, now),
      ...(type === NoticeType.manager ? { viewerId: callerId } : {}),
    };
    const answered = domainEvent('InvitationAnswered', { groupId, operatorId: callerId, receiverId, noticeType: type, status, timestamp: now });
    const base = { groupId, now, maxUserGroups, maxMemberCount: group.maxMemberCount, answer, admit: [], notices: [] };

    if (status === 0) {
      await commit(deps, { ...base, expect: type === NoticeType.manager ? { staff: callerId } : {}, events: () => [answered] }, limit);
      return;
    }

    if (type === NoticeType.invitee && group.certiStatus === 0 && !isStaff(group, notice.requesterId)) {
      // The invitee consented; a plain member (or someone who left) invited them into a certified
      // group, so the owner and managers must approve too.
      const staff = staffOf(group);
      const request = waitingNotice(
        deps,
        now,
        { groupId, type: NoticeType.manager, receiverId, requesterId: notice.requesterId, viewerIds: staff },
        notices.find((n) => n.type === NoticeType.manager),
      );
      await commit(
        deps,
        {
          ...base,
          expect: { certiStatus: group.certiStatus, absent: [receiverId] },
          notices: [request],
          events: () => [
            answered,
            domainEvent('GroupInvited', {
              groupId,
              requesterId: notice.requesterId,
              receiverIds: [receiverId],
              recipientIds: staff,
              noticeType: NoticeType.manager,
              status: NoticeStatus.waiting,
              timestamp: now,
            }),
          ],
        },
        limit,
      );
      return;
    }

    if (group.memberCount + 1 > group.maxMemberCount) throw new InvalidInput(groupFull(group.maxMemberCount));
    const expect: Expectations =
      type === NoticeType.manager
        ? { staff: callerId }
        : group.certiStatus === 0
          ? { certiStatus: group.certiStatus, staff: notice.requesterId }
          : { certiStatus: group.certiStatus };
    await commit(
      deps,
      {
        ...base,
        expect,
        admit: [{ member: newMember(groupId, receiverId, now), expire: expiryOf(notices.filter((n) => n.type === other), receiverId, now) }],
        events: () => [
          answered,
          domainEvent('MembersJoined', { groupId, operatorId: notice.requesterId, memberIds: [receiverId], timestamp: now }),
        ],
      },
      limit,
    );
  });

/** One entry of a user's notice list, with the live group and the people it names. */
export interface NoticeEntry {
  notice: Notice;
  /** The status shown: a waiting notice of a dismissed group shows as expired. */
  status: NoticeStatus;
  group: Group;
  requester: Profile;
  receiver: Profile;
}

/**
 * GET /group/notice_info: the caller's notices, newest first, with the groups' current names and the
 * users' current nicknames. Notices past their expiry, or no longer addressed to the caller, are gone.
 */
export const listNotices = async (deps: InvitationsDeps, callerId: string): Promise<NoticeEntry[]> => {
  const pointers = await deps.invitations.inbox(callerId);
  if (pointers.length === 0) return [];
  const now = deps.now();
  const [notices, groups] = await Promise.all([
    deps.invitations.notices(pointers),
    deps.groups.getMany([...new Set(pointers.map((p) => p.groupId))]),
  ]);
  const visible = notices.filter((n) => {
    const group = groups.get(n.groupId);
    return isLive(n, now) && n.viewerIds.includes(callerId) && group !== undefined && (group.status === 'active' || group.status === 'dismissed');
  });
  const profiles = await deps.users.getProfiles([...new Set(visible.flatMap((n) => [n.requesterId, n.receiverId]))]);
  return visible
    .sort((a, b) => b.timestamp - a.timestamp)
    .map((notice) => {
      const group = groups.get(notice.groupId) as Group;
      return {
        notice,
        status: group.status === 'dismissed' && notice.status === NoticeStatus.waiting ? NoticeStatus.expired : notice.status,
        group,
        requester: profiles.get(notice.requesterId) as Profile,
        receiver: profiles.get(notice.receiverId) as Profile,
      };
    });
};

/** POST /group/clear_notice: empties the caller's notice list; the notices stay for their other viewers. */
export const clearNotices = (deps: InvitationsDeps, callerId: string): Promise<void> => deps.invitations.clearInbox(callerId);
