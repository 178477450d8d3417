import { describe, expect, it } from 'vitest';
import { Role, unknownProfile, type Group, type Member } from '#lib/domain/model.ts';
import { groupView, membersView, userGroupsView } from '#lib/domain/views.ts';

const group = (overrides: Partial<Group> = {}): Group => ({
  id: 'g1', name: 'G', portraitUri: '', creatorId: 'owner', managerIds: [], memberCount: 3, maxMemberCount: 500, certiStatus: 1,
  isMute: 0, muteWhitelist: [], memberProtection: 0, clearStatus: 0, clearTimeAt: null, bulletin: null, bulletinTime: null, bulletinCount: 0, copiedTime: 0,
  status: 'active', deletedAt: null, createdAt: 1, updatedAt: 2, version: 1, ...overrides,
});
const member = (userId: string, role: Role): Member => ({
  groupId: 'g1', userId, role, displayName: '', groupNickname: '', createdAt: 1_000, updatedAt: 2_000, timestamp: 2_000,
});
const withContact = (userId: string) => ({ ...unknownProfile(userId), nickname: userId, phone: `p-${userId}`, stAccount: `s-${userId}` });
const roster = [member('owner', Role.owner), member('manager', Role.manager), member('plain', Role.member)].map((m) => ({
  member: m,
  profile: withContact(m.userId),
}));

describe('views', () => {
  it('shows a group with exactly the fields clients read, internal state left out', () => {
    expect(Object.keys(groupView(group()))).toEqual([
      'id', 'name', 'portraitUri', 'memberCount', 'maxMemberCount', 'creatorId', 'bulletin', 'bulletinTime',
      'deletedAt', 'isMute', 'certiStatus', 'memberProtection',
    ]);
  });

  it('gives member times as ISO strings and as milliseconds', () => {
    const [entry] = membersView(group(), member('plain', Role.member), roster);
    expect(entry).toMatchObject({ createdAt: '1970-01-01T00:00:01.000Z', createdTime: 1_000, updatedTime: 2_000, timestamp: 2_000 });
  });

  it('shows every contact field while member protection is off', () => {
    const view = membersView(group(), member('plain', Role.member), roster);
    expect(view.every((m) => 'phone' in m.user && 'stAccount' in m.user)).toBe(true);
  });

  it('hides other members\' contact fields from a plain member while protection is on', () => {
    const view = membersView(group({ memberProtection: 1 }), member('plain', Role.member), roster);
    expect(view.map((m) => [m.user.id, 'phone' in m.user, 'stAccount' in m.user])).toEqual([
      ['owner', false, false],
      ['manager', false, false],
      ['plain', true, true],
    ]);
  });

  it('shows everything to the owner and managers while protection is on', () => {
    for (const viewer of [member('owner', Role.owner), member('manager', Role.manager)]) {
      const view = membersView(group({ memberProtection: 1 }), viewer, roster);
      expect(view.every((m) => m.user.phone === `p-${m.user.id}` && m.user.stAccount === `s-${m.user.id}`)).toBe(true);
    }
  });

  it('lists a user\'s groups with their role', () => {
    expect(userGroupsView([{ member: member('manager', Role.manager), group: group() }])).toEqual([
      {
        role: 2,
        displayName: '',
        group: { id: 'g1', name: 'G', portraitUri: '', creatorId: 'owner', memberCount: 3, maxMemberCount: 500, isMute: 0, certiStatus: 1, memberProtection: 0 },
      },
    ]);
  });
});
