/**
 * copy_group: a member copies a group into a new one that they own, with the source's current
 * members. Rules: the SealTalk reference's §5.25 with our decisions (docs/decisions.md).
 *
 * The copy IS a creation: it goes through `createGroup` (the same invitation rules, answer, events
 * and chunked creation), and the transaction that makes the copy visible also sets the source's
 * `copiedTime`, guarded by the value read, so of two concurrent copies of one source exactly one
 * commits (the other answers 20005 and leaves nothing written).
 */

import { BusinessCodes, Forbidden, InvalidInput, Rejected } from './errors.ts';
import { createGroup, groupName, type UserStatus } from './groups.ts';
import { isPossibleGroupId } from './ids.ts';
import { NOT_MEMBER } from './invitations.ts';
import type { Group, Profile } from './model.ts';
import type { GroupsDeps } from './ports.ts';

/*
 * No storage of its own: the source is read through `deps.groups` / `deps.members` / `deps.users`,
 * and the source's `copiedTime` changes in the copy's own visible-making transaction, which
 * `deps.groups.create(..., copyOf)` commits.
 */

/** Why the copy's last transaction was refused (raised by `GroupRepository.create` with `copyOf`). */
export class CopyConflict extends Error {
  constructor(
    /** `gone`: the source is no longer active; `copied`: its `copiedTime` changed; `member`: the caller left it. */
    readonly kind: 'gone' | 'copied' | 'member',
  ) {
    super(`group copy refused: ${kind}`);
    this.name = 'CopyConflict';
  }
}

export const NO_GROUP = 'No Group';
export const PROTECTED = 'Group is in its protection period and cannot be copied yet.';
export const COPIED = 'Group has already been copied within the copy interval.';
export const ONE_MEMBER = 'Group has only one member.';

export interface CopyGroupInput {
  groupId: string;
  name: string;
  portraitUri?: string | undefined;
}

const conflictError = (conflict: CopyConflict) => {
  if (conflict.kind === 'gone') return new Rejected(BusinessCodes.noGroup, NO_GROUP);
  if (conflict.kind === 'copied') return new Rejected(BusinessCodes.copied, COPIED);
  return new Forbidden(NOT_MEMBER);
};

/**
 * POST /group/copy_group. Checks in the reference's order, with the membership check we add:
 * no such group (unknown, impossible, half-created or dismissed) 20006; not a member 403;
 * younger than the protection period 20004; copied within the interval 20005; bad name 400;
 * one member 20007; more members than a group may hold 400; the caller (or a member who would be
 * added) at the per-user group limit 1000.
 */
export const copyGroup = async (
  deps: GroupsDeps,
  callerId: string,
  input: CopyGroupInput,
): Promise<{ id: string; userStatus: UserStatus[] }> => {
  const [source, caller] = isPossibleGroupId(input.groupId)
    ? await Promise.all([deps.groups.get(input.groupId), deps.members.get(input.groupId, callerId)])
    : [null, null];
  if (!source || source.status !== 'active') throw new Rejected(BusinessCodes.noGroup, NO_GROUP);
  if (!caller) throw new Forbidden(NOT_MEMBER);

  const now = deps.now();
  const { copyProtectionMs, copyIntervalMs, maxGroupMembers, maxUserGroups } = deps.limits;
  // The reference: the time passed must be GREATER than the period.
  if (now - source.createdAt <= copyProtectionMs) throw new Rejected(BusinessCodes.protected, PROTECTED);
  if (now - source.copiedTime <= copyIntervalMs) throw new Rejected(BusinessCodes.copied, COPIED);
  groupName(input.name);

  // Read only once the caller is known to be a member: a stranger cannot make us read 3000 items.
  const members = await deps.members.list(source.id);
  if (members.length <= 1) throw new Rejected(BusinessCodes.memberLimit, ONE_MEMBER);
  if (members.length > maxGroupMembers) {
    throw new InvalidInput(`groupId: Group's member count is out of max group member count limit (${maxGroupMembers}).`);
  }
  const others = members.map((m) => m.userId).filter((id) => id !== callerId);
  const profiles = await deps.users.getProfiles([callerId, ...others]);
  checkUserLimits(profiles, callerId, others, maxUserGroups);

  try {
    return await createGroup(copyingDeps(deps, source, profiles), callerId, {
      name: input.name,
      memberIds: others,
      portraitUri: input.portraitUri,
    });
  } catch (error) {
    throw error instanceof CopyConflict ? conflictError(error) : error;
  }
};

/** Code 1000 for the caller, or for a member who would be added directly, at the per-user limit. */
const checkUserLimits = (profiles: ReadonlyMap<string, Profile>, callerId: string, others: string[], maxUserGroups: number): void => {
  const profile = (id: string): Profile => profiles.get(id) as Profile;
  if (profile(callerId).groupCount >= maxUserGroups) {
    throw new Rejected(BusinessCodes.userGroupLimit, `Current user's group count is out of max user group count limit (${maxUserGroups}).`);
  }
  // Users who asked to be asked get an invitation, not a seat: their count does not move.
  const full = others.find((id) => profile(id).groupVerify !== 0 && profile(id).groupCount >= maxUserGroups);
  if (full !== undefined) {
    throw new Rejected(
      BusinessCodes.userGroupLimit,
      `Member ${full}'s group count is out of max user group count limit (${maxUserGroups}).`,
    );
  }
};

/** `deps` whose group creation also marks `source` copied in the copy's visible-making transaction. */
/**
 * The creation's ports for a copy: the new group records its source, and the profiles already read
 * for the limits are not read a second time (the transaction's conditions keep the counts exact).
 */
const copyingDeps = (deps: GroupsDeps, source: Group, profiles: ReadonlyMap<string, Profile>): GroupsDeps => ({
  ...deps,
  users: {
    ...deps.users,
    getProfiles: async (userIds) =>
      userIds.every((id) => profiles.has(id)) ? new Map(userIds.map((id) => [id, profiles.get(id) as Profile])) : deps.users.getProfiles(userIds),
  },
  groups: {
    ...deps.groups,
    create: (group, limits) => deps.groups.create(group, limits, { sourceId: source.id, copiedTime: source.copiedTime, memberId: group.group.creatorId }),
  },
});
