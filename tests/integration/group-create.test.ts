import { describe, expect, it } from 'vitest';
import { deps } from '#lib/app.ts';
import { Rejected } from '#lib/domain/errors.ts';
import { Role, type Group, type Member } from '#lib/domain/model.ts';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { eventsFor, groupItem, memberItem, partitionItems, patch, profileItem, getItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

interface Created {
  id: string;
  userStatus: { id: string; status: number }[];
}

const created = (reply: { body: { result?: unknown } }) => reply.body.result as Created;
const setGroupCount = (userId: string, groupCount: number) => patch(keys.profile(userId), { userId, groupCount });

describe('POST /group/create', () => {
  it('makes the caller the owner and the listed users members, with an exact count', async () => {
    const [owner, bob, carol] = [uniqueUserId('owner'), uniqueUserId('bob'), uniqueUserId('carol')];
    const reply = await api.create(owner, { name: 'Friends', memberIds: [owner, bob, carol] });

    expect(reply.status).toBe(200);
    expect(reply.body.code).toBe(200);
    const { id, userStatus } = created(reply);
    expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
    // The reference lists the directly added users, then the creator.
    expect(userStatus).toEqual([
      { id: bob, status: 1 },
      { id: carol, status: 1 },
      { id: owner, status: 1 },
    ]);

    const group = (await api.get(owner, id)).body.result as Group;
    expect(group).toMatchObject({ id, name: 'Friends', creatorId: owner, memberCount: 3, maxMemberCount: 500, deletedAt: null });
    expect((await memberItem(id, owner))?.role).toBe(Role.owner);
    expect((await memberItem(id, bob))?.role).toBe(Role.member);
    expect((await profileItem(owner))?.groupCount).toBe(1);
    expect((await profileItem(bob))?.groupCount).toBe(1);
    // One transaction: never anything for the janitor (no GSI2 entry).
    expect(await groupItem(id)).not.toHaveProperty('gsi2pk');
  });

  it('adds the caller as owner even when memberIds does not list them', async () => {
    const [owner, bob] = [uniqueUserId('owner'), uniqueUserId('bob')];
    const { id, userStatus } = created(await api.create(owner, { name: 'Pair', memberIds: [bob] }));
    expect(userStatus).toEqual([
      { id: bob, status: 1 },
      { id: owner, status: 1 },
    ]);
    expect((await groupItem(id))?.memberCount).toBe(2);
  });

  it('collapses duplicate ids and never lists the caller twice', async () => {
    const [owner, bob] = [uniqueUserId('owner'), uniqueUserId('bob')];
    const { id, userStatus } = created(await api.create(owner, { name: 'Dups', memberIds: [bob, owner, bob, owner] }));
    expect(userStatus.map((s) => s.id)).toEqual([bob, owner]);
    expect((await groupItem(id))?.memberCount).toBe(2);
    expect((await partitionItems(id, 'MEMBER#')).length).toBe(2);
  });

  it('escapes < and > in the name and keeps the portrait', async () => {
    const owner = uniqueUserId('owner');
    const { id } = created(
      await api.create(owner, { name: '<a>hello</a>', memberIds: [uniqueUserId('bob')], portraitUri: 'https://img.example/1.png' }),
    );
    const group = (await api.get(owner, id)).body.result as Group;
    expect(group.name).toBe('&lt;a&gt;hello&lt;/a&gt;');
    expect(group.portraitUri).toBe('https://img.example/1.png');
  });

  it('invites users who asked to be asked instead of adding them', async () => {
    const [owner, bob, shy] = [uniqueUserId('owner'), uniqueUserId('bob'), uniqueUserId('shy')];
    // A user's group_verify claim is projected into their profile when they call the API.
    await api.userGroups({ sub: shy, group_verify: '0' });

    const { id, userStatus } = created(await api.create(owner, { name: 'Mixed', memberIds: [shy, bob] }));
    expect(userStatus).toEqual([
      { id: bob, status: 1 },
      { id: owner, status: 1 },
      { id: shy, status: 3 },
    ]);
    expect((await groupItem(id))?.memberCount).toBe(2);
    expect(await memberItem(id, shy)).toBeUndefined();
    const [notice] = await partitionItems(id, 'NOTICE#');
    expect(notice).toMatchObject({ type: 1, status: 2, requesterId: owner, receiverId: shy, viewerIds: [shy] });
    expect(notice?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 6 * 24 * 3600);
    expect(notice?.expiresAt).toBeLessThanOrEqual(Date.now() / 1000 + 7 * 24 * 3600);
    expect(await getItem(keys.inbox(shy, id, 1, shy))).toMatchObject({ groupId: id, type: 1, receiverId: shy });

    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'GroupInvited']);
    expect(events[1]?.detail).toMatchObject({ receiverIds: [shy], recipientIds: [shy], noticeType: 1, status: 2 });
  });

  it('writes a GroupCreated event in the same transaction as the group', async () => {
    const [owner, bob] = [uniqueUserId('owner'), uniqueUserId('bob')];
    const { id } = created(await api.create(owner, { name: 'Evented', memberIds: [bob] }));
    const events = await eventsFor(id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'sealtalk.group',
      detailType: 'GroupCreated',
      detail: { groupId: id, operatorId: owner, name: 'Evented', portraitUri: '', memberIds: [bob, owner] },
    });
  });

  describe('rejects bad input with a 400 naming the field, writing nothing', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['missing name', { memberIds: ['x'] }, 'name: required'],
      ['empty name', { name: '', memberIds: ['x'] }, 'name: expected a group name'],
      ['numeric name', { name: 12, memberIds: ['x'] }, 'name: expected a group name'],
      ['one-character name', { name: 'a', memberIds: ['x'] }, 'name: Length of group name is out of limit.'],
      ['33-character name', { name: 'a'.repeat(33), memberIds: ['x'] }, 'name: Length of group name is out of limit.'],
      ['emoji-only name', { name: '😀', memberIds: ['x'] }, 'name: Length of group name is out of limit.'],
      ['missing memberIds', { name: 'ok name' }, 'memberIds: required'],
      ['empty memberIds', { name: 'ok name', memberIds: [] }, 'memberIds: expected at least one user id'],
      ['null in memberIds', { name: 'ok name', memberIds: ['x', null] }, 'memberIds[1]: required'],
      ['empty id in memberIds', { name: 'ok name', memberIds: [''] }, 'memberIds[0]: expected a non-empty user id'],
      ['empty portraitUri', { name: 'ok name', memberIds: ['x'], portraitUri: '' }, 'portraitUri: expected a non-empty portrait URI'],
    ];
    it.each(cases)('%s', async (_, body, message) => {
      const owner = uniqueUserId('owner');
      const reply = await api.create(owner, body);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ code: 400, message });
      expect((await profileItem(owner))?.groupCount ?? 0).toBe(0);
    });

    it('a list naming only the caller', async () => {
      const owner = uniqueUserId('owner');
      const reply = await api.create(owner, { name: 'Alone', memberIds: [owner] });
      expect(reply.status).toBe(400);
      expect(reply.body.message).toBe("memberIds: Group's member count should be greater than 1 at least.");
    });

    it('more members than a group may hold (500 with the owner)', async () => {
      const owner = uniqueUserId('owner');
      const memberIds = Array.from({ length: 500 }, (_, i) => `${owner}-m${i}`);
      const reply = await api.create(owner, { name: 'Too big', memberIds });
      expect(reply.status).toBe(400);
      expect(reply.body.message).toBe("memberIds: Group's member count is out of max group member count limit (500).");
      expect((await profileItem(owner))?.groupCount ?? 0).toBe(0);
    });
  });

  it('creates a 500-member group (more than one transaction) with exact counts and one event', async () => {
    const owner = uniqueUserId('owner');
    const others = Array.from({ length: 499 }, (_, i) => `${owner}-m${String(i).padStart(3, '0')}`);
    const reply = await api.create(owner, { name: 'Big group', memberIds: others });
    expect(reply.body.code).toBe(200);
    const { id, userStatus } = created(reply);
    expect(userStatus).toHaveLength(500);

    expect(await groupItem(id)).toMatchObject({ status: 'active', memberCount: 500 });
    // The janitor's repair entry, written with the `creating` group, went with the activation.
    expect(await groupItem(id)).not.toHaveProperty('gsi2pk');
    expect(await groupItem(id)).not.toHaveProperty('gsi2sk');
    const members = await partitionItems(id, 'MEMBER#');
    expect(members).toHaveLength(500);
    expect(members.filter((m) => m.role === Role.owner).map((m) => m.userId)).toEqual([owner]);
    const counts = await Promise.all([owner, others[0] as string, others[498] as string].map(profileItem));
    expect(counts.map((p) => p?.groupCount)).toEqual([1, 1, 1]);

    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated']);
    expect((events[0]?.detail.memberIds as string[]).length).toBe(500);

    const listed = (await api.members(owner, id)).body.result as unknown[];
    expect(listed).toHaveLength(500);
  });

  describe('the per-user group limit (500)', () => {
    it('answers code 1000 when the caller is already in 500 groups', async () => {
      const owner = uniqueUserId('owner');
      await setGroupCount(owner, 500);
      const reply = await api.create(owner, { name: 'One more', memberIds: [uniqueUserId('bob')] });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        code: 1000,
        message: "Current user's group count is out of max user group count limit (500).",
      });
      expect((await profileItem(owner))?.groupCount).toBe(500);
    });

    it('answers code 1000 naming a listed user who is already in 500 groups, and writes nothing', async () => {
      const [owner, bob, full] = [uniqueUserId('owner'), uniqueUserId('bob'), uniqueUserId('full')];
      await setGroupCount(full, 500);
      const reply = await api.create(owner, { name: 'Blocked', memberIds: [bob, full] });
      expect(reply.body.code).toBe(1000);
      expect(reply.body.message).toContain('memberIds[1]');
      expect((await profileItem(owner))?.groupCount ?? 0).toBe(0);
      expect((await profileItem(bob))?.groupCount ?? 0).toBe(0);
    });

    it('undoes the chunks already written when a late chunk meets a full user', async () => {
      // Drives the repository directly: the domain's pre-check would otherwise refuse first, and
      // this is the path a concurrent join racing the creation takes.
      const owner = uniqueUserId('owner');
      const others = Array.from({ length: 150 }, (_, i) => `${owner}-m${String(i).padStart(3, '0')}`);
      const late = others[140] as string;
      await setGroupCount(late, 500);
      const now = Date.now();
      const groupId = deps.newGroupId();
      const member = (userId: string, role: Member['role']): Member => ({
        groupId, userId, role, displayName: '', groupNickname: '', createdAt: now, updatedAt: now, timestamp: now,
      });
      const group: Group = {
        id: groupId, name: 'Racy', portraitUri: '', creatorId: owner, managerIds: [], memberCount: 151, maxMemberCount: 500,
        certiStatus: 1, isMute: 0, muteWhitelist: [], memberProtection: 0, clearStatus: 0, clearTimeAt: null, bulletin: null, bulletinTime: null, bulletinCount: 0,
        copiedTime: 0, status: 'active', deletedAt: null, createdAt: now, updatedAt: now, version: 1,
      };
      const attempt = deps.groups.create(
        { group, members: [member(owner, 0), ...others.map((u) => member(u, 1))], notices: [], events: [] },
        { maxUserGroups: 500 },
      );
      await expect(attempt).rejects.toBeInstanceOf(Rejected);
      await expect(attempt).rejects.toThrow(late);

      expect(await groupItem(groupId)).toBeUndefined();
      expect(await partitionItems(groupId, 'MEMBER#')).toHaveLength(0);
      expect((await profileItem(owner))?.groupCount).toBe(0);
      expect((await profileItem(others[0] as string))?.groupCount).toBe(0);
      expect((await profileItem(late))?.groupCount).toBe(500);
      expect((await api.get(owner, groupId)).status).toBe(404);
    });
  });

  describe('under concurrency', () => {
    it('lets exactly one of two concurrent creates take the caller\'s last group slot', async () => {
      const owner = uniqueUserId('owner');
      await setGroupCount(owner, 499);
      const replies = await Promise.all([
        api.create(owner, { name: 'First', memberIds: [uniqueUserId('bob')] }),
        api.create(owner, { name: 'Second', memberIds: [uniqueUserId('carol')] }),
      ]);
      expect(replies.map((r) => r.body.code).sort((a = 0, b = 0) => a - b)).toEqual([200, 1000]);
      expect((await profileItem(owner))?.groupCount).toBe(500);
    });

    it('keeps every count exact when one user is added to many groups at once', async () => {
      const shared = uniqueUserId('shared');
      const owners = Array.from({ length: 12 }, () => uniqueUserId('owner'));
      const ids = await Promise.all(owners.map((o) => createGroup(o, [shared])));
      expect(new Set(ids).size).toBe(12);
      expect((await profileItem(shared))?.groupCount).toBe(12);
      const listed = (await api.userGroups(shared)).body.result as unknown[];
      expect(listed).toHaveLength(12);
    });
  });
});
