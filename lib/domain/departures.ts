/**
 * Departures: POST /group/kick, /group/quit, /group/exited_list. Rules: docs/decisions.md; the
 * reference's §5.4, §5.5, §5.26 and §7, with its holes fixed (every id checked, managers may not
 * kick managers, the owner's quit hands over or dismisses in the same transaction).
 *
 * Each operation reads, decides, then commits through ONE store call whose conditions guarantee
 * what the read decided (the group is active, the roles are still those read, the operator still
 * holds their role). A condition that fails because the state moved on raises `Stale`, and the
 * operation decides again from a fresh read.
 */

import { domainEvent, type DomainEvent } from '../events/index.ts';
import { Forbidden, InvalidInput, NotAllowed, NotFound } from './errors.ts';
import { UNKNOWN_GROUP } from './groups.ts';
import { isPossibleGroupId } from './ids.ts';
import { QuitReason, readAgreeing, Role, rolesAgree, type ExitRecord, type Group, type Member, type Profile } from './model.ts';
import type { DeparturesDeps } from './ports.ts';
import { KEPT_CHANGING } from './stale.ts';

export const CANNOT_KICK_SELF = 'Can not kick yourself.';
export const CANNOT_KICK_HOST = 'Can not kick the host.';
export const NOT_MANAGER = 'Current user is not group manager.';
export const NOT_MEMBER = 'Current user is not group member.';
export const NONE_MEMBER = 'Can not kick none-member from the group.';
export const MANAGER_KICKS_MANAGER = 'Only the group owner can kick a manager.';
export { KEPT_CHANGING };

/**
 * A condition failed because what the decision read has changed since (a role, the managers, the
 * owner, the member count): decide again. `remaining` are the users a kick still has to remove
 * (chunks that committed are done); `announced` says whether the kick's event is committed.
 */
export class Stale extends Error {
  constructor(
    readonly remaining: readonly string[] = [],
    readonly announced = false,
  ) {
    super('the state read has changed');
    this.name = 'Stale';
  }
}

/** One member leaving: their member item as read and the exit record to write. */
export interface Departure {
  member: Member;
  exit: ExitRecord;
}

export interface KickPlan {
  groupId: string;
  now: number;
  /** The owner or a manager, as read; every chunk is guarded by them still holding that role. */
  operator: { userId: string; role: typeof Role.owner | typeof Role.manager };
  /** In the order they are written: managers first. */
  departures: Departure[];
  /** `managerIds` of the group as read (kicked managers are removed from it). */
  managerIds: string[];
  /** The kick's event (null when a retry finishes a kick whose event is already committed). */
  event: DomainEvent | null;
}

export type QuitPlan =
  /** A plain member or a manager leaves. */
  | { kind: 'leave'; groupId: string; now: number; departure: Departure; managerIds: string[]; events: DomainEvent[] }
  /** The owner leaves and `successor` becomes the owner. */
  | { kind: 'handOver'; groupId: string; now: number; departure: Departure; successor: Member; managerIds: string[]; events: DomainEvent[] }
  /** The last member (the owner) leaves: the group is dismissed. */
  | { kind: 'dismiss'; groupId: string; now: number; departure: Departure; deletedAt: string; events: DomainEvent[] };

/** What these operations need from storage (implemented in lib/store/departures.ts). */
export interface DepartureStore {
  /** One membership (strongly consistent), or null. */
  member(groupId: string, userId: string): Promise<Member | null>;
  /** The members among `userIds` (strongly consistent), by user id. */
  members(groupId: string, userIds: readonly string[]): Promise<Map<string, Member>>;
  /** Every exit record of the group, in no particular order. */
  exits(groupId: string): Promise<ExitRecord[]>;
  /**
   * Removes the members: each member item (still there, with the role read), −1 on their group
   * count, their exit record; the group's `memberCount` by the same number (group active, the
   * operator still owner/manager), kicked managers out of `managerIds`. One transaction when it
   * fits, else chunks (see the implementation). Throws the domain error of a failed condition, or
   * `Stale`.
   */
  kick(plan: KickPlan): Promise<void>;
  /** Commits a quit in one transaction. Throws the domain error of a failed condition, or `Stale`. */
  quit(plan: QuitPlan): Promise<void>;
}

/** Decisions that met a concurrent change are made again this many times in all. */
const ATTEMPTS = 5;

const retrying = async <T>(decideAndCommit: (attempt: number, last: Stale | null) => Promise<T>): Promise<T> => {
  let last: Stale | null = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      return await decideAndCommit(attempt, last);
    } catch (error) {
      if (!(error instanceof Stale)) throw error;
      last = error;
    }
  }
  throw new NotAllowed(KEPT_CHANGING);
};

/** Kicks of at most this many members read their targets with the group (one batch read each). */
const ONE_ROUND_KICK = 100;

const readTargets = async (deps: DeparturesDeps, groupId: string, callerId: string, pending: string[]) => {
  const [members, profiles] = await Promise.all([deps.departures.members(groupId, pending), deps.users.getProfiles([callerId, ...pending])]);
  return { members, profiles };
};

/** The group and the caller's membership, read together; an unknown, half-created or dismissed group is 404. */
const readActive = async (deps: DeparturesDeps, groupId: string, callerId: string): Promise<{ group: Group; caller: Member | null }> => {
  if (!isPossibleGroupId(groupId)) throw new NotFound(UNKNOWN_GROUP);
  // Two reads in parallel can straddle a transfer or a role change: they are then read again, so a
  // denial never rests on a group item and a member item that disagree.
  const [group, caller] = await readAgreeing(
    () => Promise.all([deps.groups.get(groupId), deps.departures.member(groupId, callerId)]),
    ([g, c]) => rolesAgree(g, c ? [c] : []),
  );
  if (!group || group.status !== 'active') throw new NotFound(UNKNOWN_GROUP);
  return { group, caller };
};

const exitRecord = (
  groupId: string,
  profile: Profile,
  reason: QuitReason,
  now: number,
  operator: Profile | null,
): ExitRecord => ({
  groupId,
  quitUserId: profile.userId,
  quitNickname: profile.nickname,
  quitPortraitUri: profile.portraitUri,
  quitReason: reason,
  quitTime: now,
  operatorId: operator?.userId ?? null,
  operatorName: operator?.nickname ?? null,
});

/**
 * POST /group/kick. The owner may kick anyone but themself; a manager may kick plain members only.
 * Every listed id must be a member (checked for each, nothing written otherwise). A kick larger than
 * one transaction that meets a concurrent change after its first chunk committed goes on for the
 * members not yet removed, skipping those who left meanwhile, and answers 200.
 */
export const kickMembers = async (deps: DeparturesDeps, callerId: string, input: { groupId: string; memberIds: string[] }): Promise<void> => {
  const ids = [...new Set(input.memberIds)];
  if (ids.includes(callerId)) throw new InvalidInput(CANNOT_KICK_SELF);
  const { groupId } = input;

  await retrying(async (_attempt, last) => {
    // After a partial kick met a concurrent change, only the members not yet removed are left.
    const pending = last ? ids.filter((id) => last.remaining.includes(id)) : ids;
    // Part of the kick is committed (and announced): listed users who left meanwhile are what the
    // kick wanted, not an error over a change already partly made.
    const partly = pending.length < ids.length;
    const announce = !last?.announced;
    // A kick of up to one batch read is decided in one round (everything is named by the request);
    // larger ones first check the caller, so a stranger cannot make us read thousands of items.
    const targetsFirst = pending.length <= ONE_ROUND_KICK;
    const [{ group, caller }, early] = await Promise.all([
      readActive(deps, groupId, callerId),
      targetsFirst ? readTargets(deps, groupId, callerId, pending) : undefined,
    ]);
    if (pending.includes(group.creatorId)) throw new NotAllowed(CANNOT_KICK_HOST);
    if (!caller || caller.role === Role.member) throw new Forbidden(NOT_MANAGER);
    // memberCount is exact: more ids than other members means some id is not a member.
    if (!partly && pending.length > group.memberCount - 1) throw new InvalidInput(NONE_MEMBER);

    const { members, profiles } = early ?? (await readTargets(deps, groupId, callerId, pending));
    if (!partly && pending.some((id) => !members.has(id))) throw new InvalidInput(NONE_MEMBER);
    const kicked = pending.flatMap((id) => members.get(id) ?? []);
    if (kicked.length === 0) return;
    if (kicked.some((m) => m.role === Role.owner)) throw new Stale(pending, !announce); // ownership moved since the group was read
    if (caller.role === Role.manager && kicked.some((m) => m.role === Role.manager)) throw new Forbidden(MANAGER_KICKS_MANAGER);

    const now = deps.now();
    const operator = profiles.get(callerId) as Profile;
    const reason = caller.role === Role.owner ? QuitReason.kickedByOwner : QuitReason.kickedByManager;
    const ordered = [...kicked.filter((m) => m.role === Role.manager), ...kicked.filter((m) => m.role !== Role.manager)];
    await deps.departures.kick({
      groupId,
      now,
      operator: { userId: callerId, role: caller.role },
      departures: ordered.map((member) => ({
        member,
        exit: exitRecord(groupId, profiles.get(member.userId) as Profile, reason, now, operator),
      })),
      managerIds: group.managerIds,
      event: announce ? domainEvent('MembersKicked', { groupId, operatorId: callerId, memberIds: ids, timestamp: now }) : null,
    });
  });
};

/** The longest-standing other member: earliest `timestamp`, ties by user id. */
const successorOf = (members: Member[], ownerId: string): Member | undefined =>
  members
    .filter((m) => m.userId !== ownerId)
    .sort((a, b) => a.timestamp - b.timestamp || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0))[0];

/**
 * POST /group/quit. A member leaves; the owner hands the group to the longest-standing member, or
 * dismisses it when they are the last one, in the same transaction as their departure.
 */
export const quitGroup = async (deps: DeparturesDeps, callerId: string, input: { groupId: string }): Promise<void> => {
  const { groupId } = input;
  await retrying(async () => {
    if (!isPossibleGroupId(groupId)) throw new NotFound(UNKNOWN_GROUP);
    // One round trip for every read a plain member's quit needs.
    const [group, me, profiles] = await Promise.all([
      deps.groups.get(groupId),
      deps.departures.member(groupId, callerId),
      deps.users.getProfiles([callerId]),
    ]);
    if (!group || group.status !== 'active') throw new NotFound(UNKNOWN_GROUP);
    if (!me) throw new Forbidden(NOT_MEMBER);

    // The owner: the only read of the whole member list, to find who takes over.
    const owner = me.role === Role.owner;
    const successor = owner && group.memberCount > 1 ? successorOf(await deps.members.list(groupId), callerId) : undefined;

    // Decided after every read: a departure seen by them (the successor's own quit, say) is
    // always older than this one, in the events' timestamps and the outbox order alike.
    const now = deps.now();
    const departure: Departure = {
      member: me,
      exit: exitRecord(groupId, profiles.get(callerId) as Profile, QuitReason.quit, now, null),
    };
    const quit = (newOwnerId: string | null) => domainEvent('MemberQuit', { groupId, userId: callerId, newOwnerId, timestamp: now });

    if (!owner) {
      await deps.departures.quit({ kind: 'leave', groupId, now, departure, managerIds: group.managerIds, events: [quit(null)] });
      return;
    }
    if (successor) {
      await deps.departures.quit({
        kind: 'handOver',
        groupId,
        now,
        departure,
        successor,
        managerIds: group.managerIds,
        events: [quit(successor.userId)],
      });
      return;
    }
    await deps.departures.quit({
      kind: 'dismiss',
      groupId,
      now,
      departure,
      deletedAt: new Date(now).toISOString(),
      events: [quit(null), domainEvent('GroupDismissed', { groupId, operatorId: callerId, whitelistIds: [callerId], timestamp: now })],
    });
  });
};

/** One entry of POST /group/exited_list, as the clients parse it (no `id`: Android's is an int). */
export type ExitedView = Omit<ExitRecord, 'groupId'>;

/**
 * POST /group/exited_list: the owner and managers read the group's departures, newest first
 * (ties by user id). A plain member gets the reference's 400; a non-member 403.
 */
export const listExited = async (deps: DeparturesDeps, callerId: string, input: { groupId: string }): Promise<ExitedView[]> => {
  const { caller } = await readActive(deps, input.groupId, callerId);
  if (!caller) throw new Forbidden(NOT_MEMBER);
  if (caller.role === Role.member) throw new InvalidInput(NOT_MANAGER);
  const exits = await deps.departures.exits(input.groupId);
  return exits
    .sort((a, b) => b.quitTime - a.quitTime || (a.quitUserId < b.quitUserId ? -1 : a.quitUserId > b.quitUserId ? 1 : 0))
    .map((e) => ({
      quitUserId: e.quitUserId,
      quitNickname: e.quitNickname,
      quitPortraitUri: e.quitPortraitUri,
      quitReason: e.quitReason,
      quitTime: e.quitTime,
      operatorId: e.operatorId,
      operatorName: e.operatorName,
    }));
};
