import { Role, type Group, type Member } from './model.ts';
import type { MemberWithProfile } from './groups.ts';

/**
 * The wire shapes SealTalk clients parse. Field names and types follow the reference
 * (sealtalk-group-api.md §5.16, §5.17) so existing clients work unchanged.
 */

const iso = (ms: number): string => new Date(ms).toISOString();

/** GET /group/{id}: the reference's fields plus the current bulletin and its time. */
export const groupView = (g: Group) => ({
  id: g.id,
  name: g.name,
  portraitUri: g.portraitUri,
  memberCount: g.memberCount,
  maxMemberCount: g.maxMemberCount,
  creatorId: g.creatorId,
  bulletin: g.bulletin,
  bulletinTime: g.bulletinTime,
  deletedAt: g.deletedAt,
  isMute: g.isMute,
  certiStatus: g.certiStatus,
  memberProtection: g.memberProtection,
});

/**
 * GET /group/{id}/members. While member protection is on, plain members see the other members
 * without `phone` and `stAccount`; the owner and managers see everything.
 */
export const membersView = (group: Group, viewer: Member, members: MemberWithProfile[]) => {
  const protect = group.memberProtection === 1 && viewer.role === Role.member;
  return members.map(({ member, profile }) => {
    const hide = protect && member.userId !== viewer.userId;
    return {
      displayName: member.displayName,
      role: member.role,
      timestamp: member.timestamp,
      groupNickname: member.groupNickname,
      createdAt: iso(member.createdAt),
      updatedAt: iso(member.updatedAt),
      user: {
        id: member.userId,
        nickname: profile.nickname,
        portraitUri: profile.portraitUri,
        gender: profile.gender,
        ...(hide ? {} : { stAccount: profile.stAccount, phone: profile.phone }),
      },
      createdTime: member.createdAt,
      updatedTime: member.updatedAt,
    };
  });
};

/** GET /user/groups: one entry per group the caller is in, with the caller's role there. */
export const userGroupsView = (entries: { member: Member; group: Group }[]) =>
  entries.map(({ member, group }) => ({
    role: member.role,
    displayName: member.displayName,
    group: {
      id: group.id,
      name: group.name,
      portraitUri: group.portraitUri,
      creatorId: group.creatorId,
      memberCount: group.memberCount,
      maxMemberCount: group.maxMemberCount,
      isMute: group.isMute,
      certiStatus: group.certiStatus,
      memberProtection: group.memberProtection,
    },
  }));
