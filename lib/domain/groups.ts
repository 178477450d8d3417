import { domainEvent } from '../events/index.ts';
import { InvalidInput, NotFound, Forbidden, Rejected, BusinessCodes } from './errors.ts';
import { isPossibleGroupId } from './ids.ts';
import { AddStatus, NoticeStatus, NoticeType, Role, type Group, type Member, type Profile } from './model.ts';
import type { GroupReads, GroupsDeps, Notice } from './ports.ts';
import { escapeWithin, GROUP_NAME } from './text.ts';

/**
 * Group lifecycle operations: create, read, list members, rename, and a user's groups.
 * Rules follow the SealTalk reference, with the fixes listed in DESIGN.md "Decisions".
 */

export const UNKNOWN_GROUP = 'Unknown group.';

export const groupName = (raw: string): string => {
  const name = escapeWithin(raw, GROUP_NAME.min, GROUP_NAME.max);
  if (name === null) throw new InvalidInput('name: Length of group name is out of limit.');
  return name;
};

/** The group, if it is visible: unknown, malformed, half-created and abandoned ids are all "Unknown group." */
export const visibleGroup = async (deps: { groups: GroupReads }, groupId: string): Promise<Group> => {
  const group = isPossibleGroupId(groupId) ? await deps.groups.get(groupId) : null;
  if (!group || (group.status !== 'active' && group.status !== 'dismissed')) throw new NotFound(UNKNOWN_GROUP);
  return group;
};

export interface CreateGroupInput {
  name: string;
  memberIds: string[];
  portraitUri?: string | undefined;
}

export interface UserStatus {
  id: string;
  status: number;
}

/**
 * POST /group/create. The caller always becomes the owner; the list must name at least one other
 * user. Users who asked to be asked (`groupVerify` 0) get an invitation instead of a seat.
 */
export const createGroup = async (
  deps: GroupsDeps,
  callerId: string,
  input: CreateGroupInput,
): Promise<{ id: string; userStatus: UserStatus[] }> => {
  const name = groupName(input.name);
  const others = [...new Set(input.memberIds)].filter((id) => id !== callerId);
  if (others.length === 0) {
    throw new InvalidInput("memberIds: Group's member count should be greater than 1 at least.");
  }
  const { maxGroupMembers, maxUserGroups } = deps.limits;
  if (others.length + 1 > maxGroupMembers) {
    throw new InvalidInput(
      `memberIds: Group's member count is out of max group member count limit (${maxGroupMembers}).`,
    );
  }

  const profiles = await deps.users.getProfiles([callerId, ...others]);
  const profile = (id: string): Profile => profiles.get(id) as Profile;
  if (profile(callerId).groupCount >= maxUserGroups) {
    throw new Rejected(
      BusinessCodes.userGroupLimit,
      `Current user's group count is out of max user group count limit (${maxUserGroups}).`,
    );
  }
  const invited = others.filter((id) => profile(id).groupVerify === 0);
  const added = others.filter((id) => profile(id).groupVerify !== 0);
  const full = added.find((id) => profile(id).groupCount >= maxUserGroups);
  if (full !== undefined) {
    throw new Rejected(
      BusinessCodes.userGroupLimit,
      `memberIds[${input.memberIds.indexOf(full)}]: user's group count is out of max user group count limit (${maxUserGroups}).`,
    );
  }

  const now = deps.now();
  const groupId = deps.newGroupId();
  const portraitUri = input.portraitUri ?? '';
  const group: Group = {
    id: groupId,
    name,
    portraitUri,
    creatorId: callerId,
    managerIds: [],
    memberCount: added.length + 1,
    maxMemberCount: maxGroupMembers,
    certiStatus: 1,
    isMute: 0,
    muteWhitelist: [],
    memberProtection: 0,
    clearStatus: 0,
    clearTimeAt: null,
    bulletin: null,
    bulletinTime: null,
    bulletinCount: 0,
    copiedTime: 0,
    status: 'active',
    deletedAt: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  const member = (userId: string, role: Role): Member => ({
    groupId,
    userId,
    role,
    displayName: '',
    groupNickname: '',
    createdAt: now,
    updatedAt: now,
    timestamp: now,
  });
  const notices: Notice[] = invited.map((userId) => ({
    groupId,
    type: NoticeType.invitee,
    status: NoticeStatus.waiting,
    requesterId: callerId,
    receiverId: userId,
    viewerIds: [userId],
    createdAt: now,
    timestamp: now,
    expiresAt: Math.floor(now / 1000) + deps.limits.noticeTtlS,
  }));
  // The reference lists the directly added users, then the creator, then the invited ones.
  const joined = [...added, callerId];
  const events = [
    domainEvent('GroupCreated', { groupId, operatorId: callerId, name, portraitUri, memberIds: joined, timestamp: now }),
  ];
  if (invited.length > 0) {
    events.push(
      domainEvent('GroupInvited', {
        groupId,
        requesterId: callerId,
        receiverIds: invited,
        recipientIds: invited,
        noticeType: NoticeType.invitee,
        status: NoticeStatus.waiting,
        timestamp: now,
      }),
    );
  }

  await deps.groups.create(
    {
      group,
      members: [member(callerId, Role.owner), ...added.map((id) => member(id, Role.member))],
      notices,
      events,
    },
    { maxUserGroups },
  );

  return {
    id: groupId,
    userStatus: [
      ...joined.map((id) => ({ id, status: AddStatus.added })),
      ...invited.map((id) => ({ id, status: AddStatus.waitingInvitee })),
    ],
  };
};

/** GET /group/{id}: anyone may read a group; a dismissed group is returned with `deletedAt`. */
export const getGroup = (deps: { groups: GroupReads }, groupId: string): Promise<Group> => visibleGroup(deps, groupId);

export interface MemberWithProfile {
  member: Member;
  profile: Profile;
}

/**
 * GET /group/{id}/members: members only. Returns the viewer's role too, so the view can apply
 * member protection (plain members do not see other members' phone and stAccount). The whole list
 * by default (what the clients expect); with `page`, at most `page.limit` members after
 * `page.after`, and where to continue.
 */
export const listMembers = async (
  deps: GroupsDeps,
  callerId: string,
  groupId: string,
  page?: { limit: number; after?: string | undefined },
): Promise<{ group: Group; viewer: Member; members: MemberWithProfile[]; after?: string }> => {
  if (!isPossibleGroupId(groupId)) throw new NotFound(UNKNOWN_GROUP);
  const [group, viewer, listed] = await Promise.all([
    deps.groups.get(groupId),
    deps.members.get(groupId, callerId),
    page ? deps.members.page(groupId, page.limit, page.after) : deps.members.list(groupId).then((members) => ({ members, after: undefined })),
  ]);
  if (!group || group.status !== 'active') throw new NotFound(UNKNOWN_GROUP);
  if (!viewer) throw new Forbidden('Only group member can get group member info.');
  const profiles = await deps.users.getProfiles(listed.members.map((m) => m.userId));
  return {
    group,
    viewer,
    members: listed.members.map((member) => ({ member, profile: profiles.get(member.userId) as Profile })),
    ...(listed.after === undefined ? {} : { after: listed.after }),
  };
};

/** POST /group/rename: the owner renames an active group (managers may not, as in the reference). */
export const renameGroup = async (deps: GroupsDeps, callerId: string, input: { groupId: string; name: string }) => {
  const name = groupName(input.name);
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  const now = deps.now();
  await deps.groups.rename({
    groupId: input.groupId,
    ownerId: callerId,
    name,
    now,
    event: domainEvent('GroupRenamed', { groupId: input.groupId, operatorId: callerId, name, timestamp: now }),
  });
};

/** GET /user/groups: the caller's current groups with their role in each. */
export const listUserGroups = async (deps: GroupsDeps, callerId: string): Promise<{ member: Member; group: Group }[]> => {
  const memberships = await deps.members.ofUser(callerId);
  const groups = await deps.groups.getMany(memberships.map((m) => m.groupId));
  return memberships.flatMap((member) => {
    const group = groups.get(member.groupId);
    return group && group.status === 'active' ? [{ member, group }] : [];
  });
};
