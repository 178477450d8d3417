import type { GroupRepository, MemberRepository } from '../domain/ports.ts';
import type { Logger } from '../log.ts';
import type { ImMirrorStore } from '../store/im-mirror.ts';
import type { RongCloudApi } from './rongcloud.ts';

/**
 * IM membership converges to the table, whatever order events arrive in. EventBridge delivers at
 * least once and unordered, so the notifier never replays an event's member list onto IM: it reads
 * the table's state now and makes IM match it, then reads again and repeats while the table moved
 * under it. Why that converges:
 *
 * - Every table change emits an event, delivered after its commit; its processing reads after that
 *   commit and calls after its read. So the last IM call on any user is made by a processing whose
 *   read came after every commit... unless two processings overlap. The re-read after the calls
 *   closes that: whichever processing calls last re-reads afterwards and corrects what it finds
 *   stale.
 * - A group is created in IM once (the mirror item records it, with the name IM has). Until then,
 *   per-user syncs do nothing: the creation reads the members after it created the group and
 *   writes the mirror BEFORE that read, so anything a skipped sync would have done is seen by it.
 *
 * Membership calls (create, join, quit, refresh) are idempotent at RongCloud, so repeating one is
 * harmless; messages are not, and are not sent from here.
 */

export interface SyncDeps {
  im: RongCloudApi;
  groups: Pick<GroupRepository, 'get'>;
  members: Pick<MemberRepository, 'list' | 'currentAmong'>;
  mirror: ImMirrorStore;
  now: () => number;
  log: Logger;
}

/** How often a sync re-reads before it gives up for now (the queue retries it later). */
const MAX_ROUNDS = 5;

export class StillChanging extends Error {
  constructor(groupId: string) {
    super(`group ${groupId} kept changing while its IM state was synced; retry later`);
    this.name = 'StillChanging';
  }
}

const difference = <T>(a: ReadonlySet<T>, b: ReadonlySet<T>): T[] => [...a].filter((x) => !b.has(x));

/**
 * Makes the IM group exist with the table's current members and name (no-op for a group that is
 * gone or dismissed: dismissal is its own event). Returns whether the group is live in IM.
 */
export const ensureGroup = async (deps: SyncDeps, groupId: string, options: { refresh?: boolean } = {}): Promise<boolean> => {
  const group = await deps.groups.get(groupId);
  if (!group || group.status !== 'active') {
    deps.log.info('im sync skipped: group not active', { groupId, status: group?.status ?? 'missing' });
    return false;
  }
  const mirror = await deps.mirror.get(groupId);
  if (mirror) {
    // Created before: only the name can be behind here (members are synced per change).
    // A portrait change asks for a refresh even when the name IM has is current.
    let name = options.refresh ? undefined : mirror.name;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const current = await deps.groups.get(groupId);
      if (!current || current.status !== 'active' || current.name === name) return true;
      await deps.im.refreshGroup(groupId, current.name);
      await deps.mirror.put(groupId, { name: current.name, createdAt: mirror.createdAt });
      name = current.name;
    }
    throw new StillChanging(groupId);
  }

  let name = group.name;
  let members = new Set((await deps.members.list(groupId)).map((m) => m.userId));
  await deps.im.createGroup(groupId, name, [...members]);
  await deps.mirror.put(groupId, { name, createdAt: deps.now() });
  deps.log.info('im group created', { groupId, members: members.size });

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const [current, list] = await Promise.all([deps.groups.get(groupId), deps.members.list(groupId)]);
    if (!current || current.status !== 'active') return false;
    const now = new Set(list.map((m) => m.userId));
    const joined = difference(now, members);
    const left = difference(members, now);
    if (joined.length === 0 && left.length === 0 && current.name === name) return true;
    if (current.name !== name) {
      await deps.im.refreshGroup(groupId, current.name);
      await deps.mirror.put(groupId, { name: current.name, createdAt: deps.now() });
    }
    if (joined.length > 0) await deps.im.joinGroup(groupId, current.name, joined);
    if (left.length > 0) await deps.im.quitGroup(groupId, left);
    deps.log.info('im group corrected after creation', { groupId, joined: joined.length, left: left.length });
    members = now;
    name = current.name;
  }
  throw new StillChanging(groupId);
};

/**
 * Makes IM membership of `userIds` match the table: members join, the others quit. For the
 * membership events (join, add, agree, kick, quit): call it AFTER telling leavers they leave.
 */
export const syncUsers = async (deps: SyncDeps, groupId: string, userIds: readonly string[]): Promise<void> => {
  if (userIds.length === 0) return;
  // Not created in IM yet: its creation reads the members after writing the mirror (see above).
  if (!(await deps.mirror.get(groupId))) return;
  let applied: Set<string> | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const [group, current] = await Promise.all([deps.groups.get(groupId), deps.members.currentAmong(groupId, userIds)]);
    if (!group || group.status !== 'active') return;
    if (applied && current.size === applied.size && difference(current, applied).length === 0) return;
    const leaving = userIds.filter((id) => !current.has(id));
    if (current.size > 0) await deps.im.joinGroup(groupId, group.name, [...current]);
    if (leaving.length > 0) await deps.im.quitGroup(groupId, leaving);
    applied = current;
  }
  throw new StillChanging(groupId);
};

/**
 * While the group is muted, the owner, the managers and the members named by mute_all may still
 * speak: makes the mute whitelist of `userIds` match that (added if they may, removed otherwise). Roles move on
 * transfer, set_manager, remove_manager and an owner's quit.
 */
export const syncWhitelist = async (deps: SyncDeps, groupId: string, userIds: readonly string[]): Promise<void> => {
  let applied: string | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const [group, members] = await Promise.all([deps.groups.get(groupId), deps.members.currentAmong(groupId, userIds)]);
    if (!group || group.status !== 'active' || group.isMute !== 1) return;
    // Named speakers count only while they are members (a kicked or quitting speaker loses it).
    const privileged = new Set([group.creatorId, ...group.managerIds, ...group.muteWhitelist.filter((id) => members.has(id))]);
    const allowed = userIds.filter((id) => privileged.has(id));
    const state = JSON.stringify(allowed);
    if (state === applied) return;
    const others = userIds.filter((id) => !privileged.has(id));
    if (allowed.length > 0) await deps.im.addWhitelist(groupId, allowed);
    if (others.length > 0) await deps.im.removeWhitelist(groupId, others);
    applied = state;
  }
  throw new StillChanging(groupId);
};
