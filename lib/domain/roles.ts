/** Roles and the group's end: POST /group/transfer, /group/set_manager, /group/remove_manager, /group/dismiss. */

import { withFreshRead } from './stale.ts';
import { domainEvent, type DomainEvent } from '../events/index.ts';
import { Forbidden, InvalidInput, NoPermission, NotFound, NotInGroup } from './errors.ts';
import { UNKNOWN_GROUP } from './groups.ts';
import { isPossibleGroupId } from './ids.ts';
import { Role, type Group, type Member } from './model.ts';
import type { RolesDeps } from './ports.ts';

/** At most this many managers per group (JAVA-NEW's limit). */
export const MAX_MANAGERS = 10;

/** How long an expired notice stays listed after the dismissal that expired it (seconds). */
export const EXPIRED_NOTICE_KEEP_S = 30 * 24 * 3600;

/**
 * What the store throws when a condition that guards what the operation READ failed (a concurrent
 * change moved the group or a member): the operation reads again and decides again, so the answer
 * is the one the new state calls for.
 */
export { StaleRead } from './stale.ts';

/** A group and some of its members, read together (one strongly consistent round trip). */
export interface GroupSnapshot {
  group: Group | null;
  /** The members among the users asked for, by user id. */
  members: Map<string, Member>;
}

/** One member whose role changes, from the role that was read. */
export interface RoleChange {
  userId: string;
  from: Role;
  to: Role;
}

/** What these operations need from storage (implemented in lib/store/roles.ts). */
export interface RoleStore {
  /** The group and which of `userIds` are its members (strongly consistent, one round trip). */
  snapshot(groupId: string, userIds: readonly string[]): Promise<GroupSnapshot>;
  /**
   * Dismisses the group in one write: status `dismissed`, `deletedAt`, `memberCount` 0, guarded by
   * `creatorId = ownerId`, active, and the `version` read (the event names the managers read).
   * Throws `StaleRead` when the group moved since it was read.
   */
  dismiss(input: { group: Group; ownerId: string; deletedAt: string; now: number; event: DomainEvent }): Promise<void>;
  /**
   * Makes `target` the owner and the owner a plain member, in one transaction guarded by
   * `creatorId = ownerId`, active, and both roles as read. Throws `StaleRead` when any moved.
   */
  transfer(input: { group: Group; ownerId: string; target: Member; now: number; event: DomainEvent }): Promise<void>;
  /**
   * Changes members' roles and the group's `managerIds` in one transaction: new managers are
   * appended while at most `maxManagers` result, former ones removed where they were read; each
   * member's role is guarded as read, and `ownerId` still owns the active group. Throws `StaleRead`
   * when any moved.
   */
  setRoles(input: {
    group: Group;
    ownerId: string;
    changes: RoleChange[];
    maxManagers: number;
    now: number;
    event: DomainEvent;
  }): Promise<void>;
  /**
   * After a dismissal (and in the janitor's undo of an abandoned creation): deletes every member
   * item of the group with −1 on each member's group count and the member's favourite of the group
   * (each delete, its decrement and the favourite commit together, so a repeated or concurrent run
   * never counts a member twice nor leaves a favourite). Returns how many members this run released.
   */
  releaseMembers(groupId: string): Promise<number>;
  /**
   * The last step of a dismissal's cleanup: removes the dismissed group's GSI2 entry (the janitor's
   * repair entry the dismissal set in place of any regular-clear entry), if any. Once it is gone the
   * janitor no longer resumes the cleanup: call it only after everything else is done.
   */
  unschedule(groupId: string): Promise<void>;
  /**
   * After a kick or a quit: deletes the group's favourite of each of `userIds` who is not a member
   * of it now (a user admitted again keeps a favourite saved since; the check and the delete commit
   * together). Idempotent. Returns how many users were checked and cleared.
   */
  removeFavourites(groupId: string, userIds: readonly string[]): Promise<number>;
  /**
   * Takes the users who are not members any more out of the group's `muteWhitelist` (the members
   * named by mute_all), guarded by the list as read and their absence. Throws `StaleRead` when either
   * moved. Returns how many were taken out.
   */
  removeSpeakers(groupId: string, userIds: readonly string[]): Promise<number>;
  /**
   * After a dismissal: expires the group's waiting notices (status 3, kept `keepS` more seconds)
   * and commits `NoticesExpired` (built by `event` from the viewers of every notice the dismissal
   * expired) once, whatever the number of runs. Returns how many notices this run expired.
   */
  expireNotices(input: {
    groupId: string;
    now: number;
    keepS: number;
    event: (recipientIds: string[]) => DomainEvent;
  }): Promise<number>;
}

/** Reads, decides and commits, again while the state moves (at most ATTEMPTS times, then 405: ./stale.ts). */
const fresh = <T>(run: () => Promise<T>): Promise<T> => withFreshRead(run, ATTEMPTS);
const ATTEMPTS = 12;

/** The group when it is live: unknown, impossible, half-created and dismissed ids are all 404. */
const liveGroup = (group: Group | null): Group => {
  if (!group || group.status !== 'active') throw new NotFound(UNKNOWN_GROUP);
  return group;
};

/**
 * POST /group/dismiss: the owner dismisses the group. One write whatever the group's size: the group
 * becomes `dismissed` (GET /group/{id} shows `deletedAt`, every change is refused); its members and
 * counts are released by the `GroupDismissed` consumer (`cleanupDismissedGroup`).
 */
export const dismissGroup = async (deps: RolesDeps, callerId: string, input: { groupId: string }): Promise<void> => {
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  await fresh(async () => {
    const group = liveGroup((await deps.roles.snapshot(input.groupId, [])).group);
    // The reference answers 400 for "not creator" (its only dismiss denial); unknown ids are 404 here.
    if (group.creatorId !== callerId) throw new InvalidInput('Unknown group or not creator.');
    const now = deps.now();
    await deps.roles.dismiss({
      group,
      ownerId: callerId,
      deletedAt: new Date(now).toISOString(),
      now,
      event: domainEvent('GroupDismissed', {
        groupId: group.id,
        operatorId: callerId,
        whitelistIds: [group.creatorId, ...group.managerIds],
        timestamp: now,
      }),
    });
  });
};

/**
 * POST /group/transfer: the owner hands the group to another member, and becomes a plain member
 * (not a manager, as in the reference). A manager who becomes owner leaves `managerIds`.
 */
export const transferOwner = async (deps: RolesDeps, callerId: string, input: { groupId: string; userId: string }): Promise<void> => {
  if (input.userId === callerId) throw new Forbidden('Can not transfer creator role to yourself.');
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  await fresh(async () => {
    const snapshot = await deps.roles.snapshot(input.groupId, [callerId, input.userId]);
    const group = liveGroup(snapshot.group);
    if (group.creatorId !== callerId || snapshot.members.get(callerId)?.role !== Role.owner) {
      throw new InvalidInput('Current user is not group creator.');
    }
    const target = snapshot.members.get(input.userId);
    if (!target) throw new InvalidInput('Invalid groupId or userId.');
    const now = deps.now();
    await deps.roles.transfer({
      group,
      ownerId: callerId,
      target,
      now,
      event: domainEvent('OwnerTransferred', { groupId: group.id, operatorId: callerId, newOwnerId: target.userId, timestamp: now }),
    });
  });
};

type ManagerChange = 'set' | 'remove';

/**
 * POST /group/set_manager and /group/remove_manager: only the owner, only members, never the owner
 * themself. Idempotent per user: a listed user who already has the requested role is left as is
 * (a retried request answers 200 again); when nobody's role changes, nothing is written.
 */
const changeManagers = async (
  deps: RolesDeps,
  change: ManagerChange,
  callerId: string,
  input: { groupId: string; memberIds: string[] },
): Promise<void> => {
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  const listed = [...new Set(input.memberIds)];
  await fresh(async () => {
    const { group: read, members } = await deps.roles.snapshot(input.groupId, [callerId, ...listed]);
    const group = liveGroup(read);
    const caller = members.get(callerId);
    if (!caller) throw new NotInGroup('Not in the group.');
    if (caller.role !== Role.owner || group.creatorId !== callerId) throw new NoPermission('No permission to set up an manager.');
    const named = (userId: string) => `memberIds[${input.memberIds.indexOf(userId)}]`;
    if (listed.some((userId) => userId === group.creatorId || members.get(userId)?.role === Role.owner)) {
      throw new Forbidden('Cannot set the group creator.');
    }
    const stranger = listed.find((userId) => !members.has(userId));
    if (stranger !== undefined) throw new InvalidInput(`${named(stranger)}: ${stranger} is not a member of the group.`);

    const [from, to]: [Role, Role] = change === 'set' ? [Role.member, Role.manager] : [Role.manager, Role.member];
    const changes: RoleChange[] = listed.filter((userId) => members.get(userId)?.role === from).map((userId) => ({ userId, from, to }));
    if (changes.length === 0) return;
    if (change === 'set' && group.managerIds.length + changes.length > MAX_MANAGERS) {
      throw new InvalidInput(`memberIds: Group's manager count is out of max manager count limit (${MAX_MANAGERS}).`);
    }
    const now = deps.now();
    const detail = { groupId: group.id, operatorId: callerId, memberIds: changes.map((c) => c.userId), timestamp: now };
    await deps.roles.setRoles({
      group,
      ownerId: callerId,
      changes,
      maxManagers: MAX_MANAGERS,
      now,
      event: change === 'set' ? domainEvent('ManagersSet', detail) : domainEvent('ManagersRemoved', detail),
    });
  });
};

export const setManagers = (deps: RolesDeps, callerId: string, input: { groupId: string; memberIds: string[] }) =>
  changeManagers(deps, 'set', callerId, input);

export const removeManagers = (deps: RolesDeps, callerId: string, input: { groupId: string; memberIds: string[] }) =>
  changeManagers(deps, 'remove', callerId, input);

/**
 * The `GroupDismissed` consumer's work (and the janitor's, when the consumer did not finish it):
 * release every member (item deleted, group count −1, their favourite of the group deleted), expire
 * the waiting notices with one `NoticesExpired`, and only then drop the group's repair entry, so
 * "no entry" means "cleaned up". Idempotent and resumable: a retried, repeated or concurrent
 * delivery finds what is left and finishes it, never counting twice.
 */
export const cleanupDismissedGroup = async (
  deps: RolesDeps,
  input: { groupId: string; operatorId: string },
): Promise<{ released: number; expired: number } | null> => {
  const { group } = await deps.roles.snapshot(input.groupId, []);
  if (!group || group.status !== 'dismissed') return null;
  const now = deps.now();
  const [released, expired] = await Promise.all([
    deps.roles.releaseMembers(input.groupId),
    deps.roles.expireNotices({
      groupId: input.groupId,
      now,
      keepS: EXPIRED_NOTICE_KEEP_S,
      event: (recipientIds) =>
        domainEvent('NoticesExpired', { groupId: input.groupId, operatorId: input.operatorId, recipientIds, timestamp: now }),
    }),
  ]);
  // Last, after both finished (a failure of either throws before it): the janitor resumes the
  // cleanup while the entry is there. Also after the notices' announcement (which writes the group
  // item too), so the two never conflict.
  await deps.roles.unschedule(input.groupId);
  return { released, expired };
};

/**
 * The `MembersKicked` / `MemberQuit` consumer's work: the users who left lose their favourite of
 * the group and their place among mute_all's named speakers (unless they are members again by now).
 * Idempotent: a redelivery deletes nothing more.
 */
export const cleanupDeparted = async (deps: RolesDeps, input: { groupId: string; userIds: readonly string[] }): Promise<number> => {
  const userIds = [...new Set(input.userIds)];
  // A named speaker who left is no speaker when they come back.
  await fresh(() => deps.roles.removeSpeakers(input.groupId, userIds));
  return deps.roles.removeFavourites(input.groupId, userIds);
};
