/**
 * Group controls: POST /group/mute_all, /group/set_regular_clear, /group/get_regular_clear,
 * POST and DELETE /group/fav, GET /user/favgroups. Rules: the reference's §5.10, §5.11, §5.21,
 * §5.22 and §8 with our decisions (docs/decisions.md): every change checks the caller's role, a
 * dismissed group rejects every change, and each change is one guarded write with its event.
 */

import { domainEvent, type DomainEvent } from '../events/index.ts';
import { NOT_MANAGER, NOT_MEMBER } from './departures.ts';
import { Forbidden, InvalidInput, NotFound } from './errors.ts';
import { UNKNOWN_GROUP, visibleGroup } from './groups.ts';
import { isPossibleGroupId } from './ids.ts';
import type { Group, Member } from './model.ts';
import type { ControlsDeps } from './ports.ts';
import { withFreshRead } from './stale.ts';

export const NOT_OWNER = 'Not a group owner.';
export const ALREADY_SAVED = 'Group already exists.';

/** At most this many users named by one mute_all (each is guarded as a member in its transaction). */
export const MAX_MUTE_SPEAKERS = 90;

/** Regular clearing: 0 off, 3 or 7 (days), 36 (hours). */
export const CLEAR_STATUSES = [0, 3, 7, 36] as const;
export type ClearStatus = (typeof CLEAR_STATUSES)[number];

/** A group and some of its members, read together (strongly consistent). */
export interface ControlsSnapshot {
  group: Group | null;
  members: Map<string, Member>;
}

/** A saved group (`USER#u / FAV#g`). */
export interface Favourite {
  groupId: string;
  /** Epoch ms it was saved. */
  createdAt: number;
}

/** What these operations need from storage (implemented in lib/store/controls.ts). */
export interface ControlsStore {
  /** The group and which of `userIds` are its members (strongly consistent, one round trip). */
  snapshot(groupId: string, userIds: readonly string[]): Promise<ControlsSnapshot>;
  /**
   * Sets `isMute` and `muteWhitelist` in one transaction with the event, guarded by the group
   * being active with the owner, managers and whitelist as read, and each of `speakers` still a
   * member. Throws NotFound when the group is gone, `StaleRead` when anything else moved.
   */
  setMute(input: { group: Group; muteStatus: 0 | 1; whitelist: string[]; speakers: string[]; now: number; event: DomainEvent }): Promise<void>;
  /**
   * Sets `clearStatus` and `clearTimeAt` of an active group owned by `ownerId`, and its GSI2
   * schedule entry (due at `now`) while clearing is on, with the event. NotFound when the group is
   * gone; InvalidInput(NOT_OWNER) when `ownerId` is not its owner.
   */
  setRegularClear(input: { groupId: string; ownerId: string; clearStatus: ClearStatus; now: number; event: DomainEvent }): Promise<void>;
  /**
   * Saves the group for `userId`: guarded by the group being active (NotFound), the user being a
   * member (Forbidden) and the favourite being new (NotAllowed(ALREADY_SAVED)).
   */
  addFavourite(input: { groupId: string; userId: string; now: number }): Promise<void>;
  /** Deletes the favourite if present. */
  removeFavourite(input: { groupId: string; userId: string }): Promise<void>;
  /** Every favourite of the user (strongly consistent), oldest first. */
  favourites(userId: string): Promise<Favourite[]>;
}

/** Reads, decides and commits, again while the state moves (at most ATTEMPTS times, then 405: ./stale.ts). */
const fresh = <T>(run: () => Promise<T>): Promise<T> => withFreshRead(run, ATTEMPTS);
const ATTEMPTS = 8;

const liveGroup = (group: Group | null): Group => {
  if (!group || group.status !== 'active') throw new NotFound(UNKNOWN_GROUP);
  return group;
};

const unique = (ids: readonly string[]): string[] => [...new Set(ids)];

/**
 * POST /group/mute_all: the owner or a manager mutes (1) or unmutes (0) the group. Muting names who
 * may still speak (`userId`: one id, as Android sends, or an array); they must all be members
 * (400 naming the first that is not). The stored whitelist is the named members; the IM whitelist
 * is the owner, the managers and them. Unmuting clears the stored whitelist, and the event names
 * everyone it allowed, so IM rolls them back; `userId` is ignored then.
 */
export const muteAll = async (
  deps: ControlsDeps,
  callerId: string,
  input: { groupId: string; muteStatus: 0 | 1; userId?: string | string[] | undefined },
): Promise<void> => {
  const listed = input.userId === undefined ? [] : typeof input.userId === 'string' ? [input.userId] : input.userId;
  const speakers = input.muteStatus === 1 ? unique(listed) : [];
  if (speakers.length > MAX_MUTE_SPEAKERS) throw new InvalidInput(`userId: expected at most ${MAX_MUTE_SPEAKERS} user ids`);
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  const named = (userId: string) => (typeof input.userId === 'string' ? 'userId' : `userId[${listed.indexOf(userId)}]`);

  await fresh(async () => {
    const { group: read, members } = await deps.controls.snapshot(input.groupId, unique([callerId, ...speakers]));
    const group = liveGroup(read);
    if (!members.has(callerId)) throw new Forbidden(NOT_MEMBER);
    if (group.creatorId !== callerId && !group.managerIds.includes(callerId)) throw new Forbidden(NOT_MANAGER);
    const stranger = speakers.find((userId) => !members.has(userId));
    if (stranger !== undefined) throw new InvalidInput(`${named(stranger)}: ${stranger} is not a member of the group.`);

    const privileged = [group.creatorId, ...group.managerIds];
    const now = deps.now();
    await deps.controls.setMute({
      group,
      muteStatus: input.muteStatus,
      whitelist: speakers,
      // The owner and managers are guarded through the group item; the others by their member items.
      speakers: speakers.filter((userId) => !privileged.includes(userId)),
      now,
      event: domainEvent('GroupMuteChanged', {
        groupId: group.id,
        operatorId: callerId,
        muteStatus: input.muteStatus,
        // Everyone whose whitelist entry this change may touch: the notifier makes IM match the table for them.
        whitelistIds: unique([...privileged, ...(input.muteStatus === 1 ? speakers : []), ...group.muteWhitelist]),
        timestamp: now,
      }),
    });
  });
};

/**
 * POST /group/set_regular_clear: the owner only (anyone else: the reference's 400). Clearing is
 * due at the first scheduled run after it is switched on (or changed); the schedule entry exists
 * only while it is on.
 */
export const setRegularClear = async (deps: ControlsDeps, callerId: string, input: { groupId: string; clearStatus: ClearStatus }): Promise<void> => {
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  const now = deps.now();
  await deps.controls.setRegularClear({
    groupId: input.groupId,
    ownerId: callerId,
    clearStatus: input.clearStatus,
    now,
    event: domainEvent('RegularClearChanged', { groupId: input.groupId, operatorId: callerId, clearStatus: input.clearStatus, timestamp: now }),
  });
};

/** POST /group/get_regular_clear: readable like GET /group/{id} (anyone; a dismissed group too). */
export const getRegularClear = async (deps: ControlsDeps, groupId: string): Promise<{ clearStatus: number }> => ({
  clearStatus: (await visibleGroup(deps, groupId)).clearStatus,
});

/** POST /group/fav: a member saves an active group to their contacts; a second save is 405. */
export const addFavourite = async (deps: ControlsDeps, callerId: string, input: { groupId: string }): Promise<void> => {
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  const { group, members } = await deps.controls.snapshot(input.groupId, [callerId]);
  liveGroup(group);
  if (!members.has(callerId)) throw new Forbidden(NOT_MEMBER);
  await deps.controls.addFavourite({ groupId: input.groupId, userId: callerId, now: deps.now() });
};

/** DELETE /group/fav: forgets the saved group if it was saved; always succeeds. */
export const removeFavourite = async (deps: ControlsDeps, callerId: string, input: { groupId: string }): Promise<void> => {
  if (!isPossibleGroupId(input.groupId)) return;
  await deps.controls.removeFavourite({ groupId: input.groupId, userId: callerId });
};

const iso = (ms: number): string => new Date(ms).toISOString();

/** One saved group as the clients parse it (the reference's §5.11 fields). */
export const favGroupView = (g: Group) => ({
  id: g.id,
  name: g.name,
  portraitUri: g.portraitUri,
  creatorId: g.creatorId,
  isMute: g.isMute,
  certiStatus: g.certiStatus,
  memberCount: g.memberCount,
  memberProtection: g.memberProtection,
  maxMemberCount: g.maxMemberCount,
  createdAt: iso(g.createdAt),
  updatedAt: iso(g.updatedAt),
  createdTime: g.createdAt,
  updatedTime: g.updatedAt,
});

const INTEGER = /^\d{1,9}$/;

/**
 * GET /user/favgroups: the caller's saved groups, oldest save first. Paged only when `limit` and
 * `offset` both parse as integers (else everything); both are echoed as given. Saved groups that are
 * dismissed or gone are dropped from `list` but counted in `total` (the number of saved rows), as
 * the reference does.
 */
export const listFavourites = async (
  deps: ControlsDeps,
  callerId: string,
  input: { limit?: string | undefined; offset?: string | undefined },
) => {
  const favourites = await deps.controls.favourites(callerId);
  const paged =
    input.limit !== undefined && input.offset !== undefined && INTEGER.test(input.limit) && INTEGER.test(input.offset)
      ? favourites.slice(Number(input.offset), Number(input.offset) + Number(input.limit))
      : favourites;
  const groups = await deps.groups.getMany(paged.map((f) => f.groupId));
  const list = paged.flatMap((f) => {
    const group = groups.get(f.groupId);
    return group && group.status === 'active' ? [favGroupView(group)] : [];
  });
  return {
    list,
    total: favourites.length,
    ...(input.limit === undefined ? {} : { limit: input.limit }),
    ...(input.offset === undefined ? {} : { offset: input.offset }),
  };
};
