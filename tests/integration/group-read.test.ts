import { describe, expect, it } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { patch, profileItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

interface MemberEntry {
  displayName: string;
  role: number;
  timestamp: number;
  groupNickname: string;
  createdAt: string;
  updatedAt: string;
  createdTime: number;
  updatedTime: number;
  user: { id: string; nickname: string; portraitUri: string; gender: string; stAccount?: string; phone?: string };
}

const claims = (sub: string, name: string, extra: Record<string, string> = {}) => ({ sub, name, ...extra });

describe('GET /group/{id}', () => {
  it('answers anyone, member or not, with the reference fields plus bulletin and bulletinTime', async () => {
    const [owner, bob, stranger] = [uniqueUserId('owner'), uniqueUserId('bob'), uniqueUserId('stranger')];
    const id = await createGroup(owner, [bob], 'Readable');
    const reply = await api.get(stranger, id);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      code: 200,
      result: {
        id,
        name: 'Readable',
        portraitUri: '',
        memberCount: 2,
        maxMemberCount: 500,
        creatorId: owner,
        bulletin: null,
        bulletinTime: null,
        deletedAt: null,
        isMute: 0,
        certiStatus: 1,
        memberProtection: 0,
      },
    });
  });

  it('answers 404 for unknown and impossible ids', async () => {
    for (const id of ['NoSuchGroup123', 'not a group id', 'x'.repeat(65), '..%2F', '５']) {
      const reply = await api.get(uniqueUserId('u'), id);
      expect(reply.status, id).toBe(404);
      expect(reply.body).toEqual({ code: 404, message: 'Unknown group.' });
    }
  });

  it('still returns a dismissed group, with deletedAt set', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob')]);
    const deletedAt = new Date().toISOString();
    await patch(keys.group(id), { status: 'dismissed', deletedAt, memberCount: 0 });
    const reply = await api.get(owner, id);
    expect(reply.status).toBe(200);
    expect(reply.body.result).toMatchObject({ id, deletedAt, memberCount: 0 });
  });
});

describe('GET /group/{id}/members', () => {
  it('lists members in ascending id order with nicknames from their token claims', async () => {
    const [owner, bob, carol] = ['m-a-' + uniqueUserId('owner'), 'm-b-' + uniqueUserId('bob'), 'm-c-' + uniqueUserId('carol')];
    // Bob and the owner have called the API with profile claims; Carol never has.
    await api.userGroups(claims(bob, 'Bob', { picture: 'https://img.example/bob.png', gender: 'male' }));
    const id = await createGroup(claims(owner, 'Owner'), [carol, bob], 'Listed');

    const reply = await api.members(carol, id);
    expect(reply.status).toBe(200);
    const members = reply.body.result as MemberEntry[];
    expect(members.map((m) => [m.user.id, m.role, m.user.nickname])).toEqual([
      [owner, 0, 'Owner'],
      [bob, 1, 'Bob'],
      [carol, 1, ''],
    ]);
    const bobEntry = members[1] as MemberEntry;
    expect(bobEntry).toMatchObject({ displayName: '', groupNickname: '', user: { portraitUri: 'https://img.example/bob.png', gender: 'male' } });
    expect(bobEntry.createdTime).toBe(Date.parse(bobEntry.createdAt));
    expect(bobEntry.updatedTime).toBe(Date.parse(bobEntry.updatedAt));
    expect(typeof bobEntry.timestamp).toBe('number');
  });

  it('updates a nickname when the caller\'s claims change', async () => {
    const [owner, bob] = [uniqueUserId('owner'), uniqueUserId('bob')];
    const id = await createGroup(claims(owner, 'Old name'), [bob]);
    await api.userGroups(claims(owner, 'New name'));
    const members = (await api.members(bob, id)).body.result as MemberEntry[];
    expect(members.find((m) => m.user.id === owner)?.user.nickname).toBe('New name');
    expect((await profileItem(owner))?.groupCount).toBe(1);
  });

  it('refuses non-members with 403', async () => {
    const [owner, stranger] = [uniqueUserId('owner'), uniqueUserId('stranger')];
    const id = await createGroup(owner, [uniqueUserId('bob')]);
    const reply = await api.members(stranger, id);
    expect(reply.status).toBe(403);
    expect(reply.body).toEqual({ code: 403, message: 'Only group member can get group member info.' });
  });

  it('answers 404 for unknown, impossible and dismissed groups', async () => {
    const owner = uniqueUserId('owner');
    const dismissed = await createGroup(owner, [uniqueUserId('bob')]);
    await patch(keys.group(dismissed), { status: 'dismissed', deletedAt: new Date().toISOString() });
    for (const id of ['NoSuchGroup123', 'bad id', dismissed]) {
      const reply = await api.members(owner, id);
      expect(reply.status, id).toBe(404);
      expect(reply.body).toEqual({ code: 404, message: 'Unknown group.' });
    }
  });

  describe('with member protection on', () => {
    const setUp = async () => {
      const [owner, manager, bob, carol] = [uniqueUserId('owner'), uniqueUserId('manager'), uniqueUserId('bob'), uniqueUserId('carol')];
      for (const u of [owner, manager, bob, carol]) {
        await api.userGroups(claims(u, u, { phone_number: `+86-${u}`, st_account: `st-${u}` }));
      }
      const id = await createGroup(owner, [manager, bob, carol]);
      await patch(keys.group(id), { memberProtection: 1 });
      await patch(keys.member(id, manager), { role: 2 });
      return { id, owner, manager, bob, carol };
    };

    it('hides other members\' phone and stAccount from plain members, not their own', async () => {
      const { id, bob } = await setUp();
      const members = (await api.members(bob, id)).body.result as MemberEntry[];
      for (const m of members) {
        if (m.user.id === bob) {
          expect(m.user).toMatchObject({ phone: `+86-${bob}`, stAccount: `st-${bob}` });
        } else {
          expect(m.user).not.toHaveProperty('phone');
          expect(m.user).not.toHaveProperty('stAccount');
          expect(m.user.nickname).toBe(m.user.id);
        }
      }
    });

    it('shows everything to the owner and managers', async () => {
      const { id, owner, manager, carol } = await setUp();
      for (const viewer of [owner, manager]) {
        const members = (await api.members(viewer, id)).body.result as MemberEntry[];
        expect(members.find((m) => m.user.id === carol)?.user).toMatchObject({ phone: `+86-${carol}`, stAccount: `st-${carol}` });
      }
    });
  });
});
