import { describe, expect, it } from 'vitest';
import { handler as cleanup } from '#functions/group-cleanup.ts';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup, type Reply } from '#tests/helpers/endpoints.ts';
import { eventsFor, getItem, groupItem, patch } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { busEventOf, dismissLocally, expectDenied, favItem, ok, users } from './controls-helpers.ts';

interface FavList {
  list: Record<string, unknown>[];
  total: number;
  limit?: string;
  offset?: string;
}

const favs = async (as: string, query: Record<string, string> = {}): Promise<FavList> => {
  const reply: Reply = await api.favGroups(as, query);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body.code).toBe(200);
  return reply.body.result as FavList;
};

const listed = async (as: string, query: Record<string, string> = {}) => (await favs(as, query)).list.map((g) => g.id);

describe('POST /group/fav', () => {
  it('lets a member save the group; saving it again is 405 Group already exists.', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    ok(await api.favAdd(bob, { groupId: id }));
    expect(await favItem(bob, id)).toMatchObject({ kind: 'fav', userId: bob, groupId: id, createdAt: expect.any(Number) });
    expectDenied(await api.favAdd(bob, { groupId: id }), 405, 'Group already exists.');
    expect(await listed(bob)).toEqual([id]);
    // Saving writes no event.
    expect((await eventsFor(id)).map((e) => e.detailType)).toEqual(['GroupCreated']);
  });

  it('refuses a non-member with 403, saving nothing', async () => {
    const [owner, bob, stranger] = users('owner', 'bob', 'stranger');
    const id = await createGroup(owner, [bob]);
    expectDenied(await api.favAdd(stranger, { groupId: id }), 403, 'Current user is not group member.');
    expect(await favItem(stranger, id)).toBeUndefined();
  });

  it('answers 404 for unknown, impossible and dismissed groups, saving nothing', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    await dismissLocally(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.favAdd(bob, { groupId }), 404, 'Unknown group.');
    }
    expect(await favItem(bob, id)).toBeUndefined();
  });

  it.each([
    [{}, 'groupId: required'],
    [{ groupId: null }, 'groupId: required'],
    [{ groupId: '' }, 'groupId: expected a non-empty group id'],
    [{ groupId: 12 }, 'groupId: expected a non-empty group id'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.favAdd(uniqueUserId('user'), body), 400, message);
  });

  it('of two concurrent saves, exactly one succeeds and the other is 405', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    const replies = await Promise.all([api.favAdd(bob, { groupId: id }), api.favAdd(bob, { groupId: id })]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 405]);
    expect((await favs(bob)).total).toBe(1);
  });
});

describe('DELETE /group/fav', () => {
  it('forgets a saved group, and answers 200 again when there is nothing to forget', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    ok(await api.favAdd(bob, { groupId: id }));
    ok(await api.favRemove(bob, { groupId: id }));
    expect(await favItem(bob, id)).toBeUndefined();
    ok(await api.favRemove(bob, { groupId: id }));
    ok(await api.favRemove(bob, { groupId: 'NoSuchGroup123' }));
    ok(await api.favRemove(bob, { groupId: 'not/a/group' }));
    // It can be saved again afterwards.
    ok(await api.favAdd(bob, { groupId: id }));
  });

  it("only touches the caller's own favourite", async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    ok(await api.favAdd(bob, { groupId: id }));
    ok(await api.favRemove(owner, { groupId: id }));
    expect(await favItem(bob, id)).toBeDefined();
  });

  it.each([
    [{}, 'groupId: required'],
    [{ groupId: '' }, 'groupId: expected a non-empty group id'],
  ])('rejects %j with a 400 naming the field (the JSON body is read)', async (body, message) => {
    expectDenied(await api.favRemove(uniqueUserId('user'), body), 400, message);
  });
});

describe('GET /user/favgroups', () => {
  it("answers the reference's shape: list of group fields, total, no limit/offset when not asked", async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob], 'Saved one');
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 1 }));
    ok(await api.favAdd(bob, { groupId: id }));
    const group = await groupItem(id);

    const reply = await api.favGroups(bob);
    expect(reply.body).toEqual({
      code: 200,
      result: {
        list: [
          {
            id,
            name: 'Saved one',
            portraitUri: '',
            creatorId: owner,
            isMute: 1,
            certiStatus: 1,
            memberCount: 2,
            memberProtection: 0,
            maxMemberCount: group?.maxMemberCount,
            createdAt: new Date(group?.createdAt as number).toISOString(),
            updatedAt: new Date(group?.updatedAt as number).toISOString(),
            createdTime: group?.createdAt,
            updatedTime: group?.updatedAt,
          },
        ],
        total: 1,
      },
    });
  });

  it('answers an empty list to someone who saved nothing', async () => {
    expect(await favs(uniqueUserId('nobody'))).toEqual({ list: [], total: 0 });
  });

  it('pages when limit and offset both parse as integers, echoing them as given (strings), oldest save first', async () => {
    const [owner, bob] = users('owner', 'bob');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await createGroup(owner, [bob], `Group ${i}`);
      ok(await api.favAdd(bob, { groupId: id }));
      ids.push(id);
    }
    expect(await favs(bob, { limit: '2', offset: '1' })).toMatchObject({ total: 4, limit: '2', offset: '1' });
    expect(await listed(bob, { limit: '2', offset: '1' })).toEqual(ids.slice(1, 3));
    expect(await listed(bob, { limit: '2', offset: '3' })).toEqual(ids.slice(3));
    expect(await listed(bob, { limit: '0', offset: '0' })).toEqual([]);
    expect(await listed(bob, { limit: '10', offset: '9' })).toEqual([]);
    // Not both integers: everything, with whatever was given echoed.
    expect(await favs(bob, { limit: '2' })).toMatchObject({ total: 4, limit: '2' });
    expect(await listed(bob, { limit: '2' })).toEqual(ids);
    expect(await favs(bob, { offset: '1' })).not.toHaveProperty('limit');
    expect(await listed(bob, { offset: '1' })).toEqual(ids);
    expect(await favs(bob, { limit: 'abc', offset: '1' })).toMatchObject({ limit: 'abc', offset: '1' });
    expect(await listed(bob, { limit: 'abc', offset: '1' })).toEqual(ids);
    expect(await listed(bob, { limit: '-1', offset: '0' })).toEqual(ids);
  });

  it('drops dismissed and vanished groups from list but counts their rows in total (as the reference)', async () => {
    const [owner, bob] = users('owner', 'bob');
    const kept = await createGroup(owner, [bob], 'Kept');
    const gone = await createGroup(owner, [bob], 'Gone');
    ok(await api.favAdd(bob, { groupId: kept }));
    ok(await api.favAdd(bob, { groupId: gone }));
    await dismissLocally(gone);
    // A row whose group never existed (as left by a failed creation).
    await patch(keys.fav(bob, 'Vanished00000000000000'), { kind: 'fav', userId: bob, groupId: 'Vanished00000000000000', createdAt: Date.now() });
    const result = await favs(bob);
    expect(result.list.map((g) => g.id)).toEqual([kept]);
    expect(result.total).toBe(3);
  });

  it("shows only the caller's saves", async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    ok(await api.favAdd(bob, { groupId: id }));
    expect(await favs(owner)).toEqual({ list: [], total: 0 });
  });
});

describe('favourites follow membership (group-cleanup consumer)', () => {
  it('a kick removes the kicked members’ favourites, and only theirs; a redelivery changes nothing', async () => {
    const [owner, bob, carol, dave] = users('owner', 'bob', 'carol', 'dave');
    const id = await createGroup(owner, [bob, carol, dave]);
    const other = await createGroup(owner, [bob]);
    for (const u of [owner, bob, carol, dave]) ok(await api.favAdd(u, { groupId: id }));
    ok(await api.favAdd(bob, { groupId: other }));

    ok(await api.kick(owner, { groupId: id, memberIds: [bob, carol] }));
    const event = await busEventOf(id, 'MembersKicked');
    await cleanup(event);

    expect(await favItem(bob, id)).toBeUndefined();
    expect(await favItem(carol, id)).toBeUndefined();
    expect(await favItem(dave, id)).toBeDefined();
    expect(await favItem(owner, id)).toBeDefined();
    expect(await favItem(bob, other)).toBeDefined();
    await cleanup(event);
    expect(await favItem(dave, id)).toBeDefined();
  });

  it('a quit removes the quitter’s favourite', async () => {
    const [owner, bob, carol] = users('owner', 'bob', 'carol');
    const id = await createGroup(owner, [bob, carol]);
    ok(await api.favAdd(bob, { groupId: id }));
    ok(await api.favAdd(carol, { groupId: id }));
    ok(await api.quit(bob, { groupId: id }));
    await cleanup(await busEventOf(id, 'MemberQuit'));
    expect(await favItem(bob, id)).toBeUndefined();
    expect(await favItem(carol, id)).toBeDefined();
  });

  it('an owner’s quit (ownership handed over) removes only the old owner’s favourite', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    ok(await api.favAdd(owner, { groupId: id }));
    ok(await api.favAdd(bob, { groupId: id }));
    ok(await api.quit(owner, { groupId: id }));
    await cleanup(await busEventOf(id, 'MemberQuit'));
    expect(await favItem(owner, id)).toBeUndefined();
    expect(await favItem(bob, id)).toBeDefined();
  });

  it('a dismissal removes every member’s favourite, with the members; a redelivery changes nothing', async () => {
    const [owner, bob, carol] = users('owner', 'bob', 'carol');
    const id = await createGroup(owner, [bob, carol]);
    for (const u of [owner, bob, carol]) ok(await api.favAdd(u, { groupId: id }));
    ok(await api.dismiss(owner, { groupId: id }));
    // Dismissed: gone from the list at once, still counted until the cleanup runs.
    expect(await favs(bob)).toEqual({ list: [], total: 1 });
    const event = await busEventOf(id, 'GroupDismissed');
    await cleanup(event);
    for (const u of [owner, bob, carol]) expect(await favItem(u, id)).toBeUndefined();
    expect(await favs(bob)).toEqual({ list: [], total: 0 });
    await cleanup(event);
    expect(await favs(owner)).toEqual({ list: [], total: 0 });
  });

  it('a large dismissal removes every saver’s favourite and releases every member exactly once', async () => {
    const owner = uniqueUserId('owner');
    const members = Array.from({ length: 130 }, (_, i) => `${owner}-d${i}`);
    const id = await createGroup(owner, members);
    const savers = [owner, ...members.filter((_, i) => i % 3 === 0)];
    await Promise.all(savers.map(async (u) => ok(await api.favAdd(u, { groupId: id }))));
    ok(await api.dismiss(owner, { groupId: id }));
    const event = await busEventOf(id, 'GroupDismissed');
    await Promise.all([cleanup(event), cleanup(event)]);
    expect((await Promise.all(savers.map((u) => favItem(u, id)))).filter((f) => f !== undefined)).toEqual([]);
    const counts = await Promise.all([owner, ...members].map(async (u) => (await getItem(keys.profile(u)))?.groupCount));
    expect(new Set(counts)).toEqual(new Set([0]));
  });

  it('the last member’s quit (which dismisses) removes their favourite', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    ok(await api.favAdd(owner, { groupId: id }));
    ok(await api.quit(bob, { groupId: id }));
    await cleanup(await busEventOf(id, 'MemberQuit'));
    ok(await api.quit(owner, { groupId: id }));
    await cleanup(await busEventOf(id, 'MemberQuit', 1));
    await cleanup(await busEventOf(id, 'GroupDismissed'));
    expect(await favItem(owner, id)).toBeUndefined();
  });

  it('keeps a favourite saved after re-admission when an old kick is delivered late', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    ok(await api.kick(owner, { groupId: id, memberIds: [bob] }));
    const late = await busEventOf(id, 'MembersKicked');
    expect((await api.add(owner, { groupId: id, memberIds: [bob] })).body).toEqual({ code: 200, result: [{ id: bob, status: 1 }] });
    ok(await api.favAdd(bob, { groupId: id }));
    await cleanup(late);
    expect(await favItem(bob, id)).toBeDefined();
  });

  it('a save racing a kick on the real engine never outlives the cleanup', async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, bob] = users('owner', 'bob');
      const id = await createGroup(owner, [bob]);
      const [save, kick] = await Promise.all([api.favAdd(bob, { groupId: id }), api.kick(owner, { groupId: id, memberIds: [bob] })]);
      ok(kick);
      if (save.status !== 200) expectDenied(save, 403, 'Current user is not group member.');
      await cleanup(await busEventOf(id, 'MembersKicked'));
      expect(await favItem(bob, id)).toBeUndefined();
    }
  });

  it('kicks larger than one cleanup transaction remove every favourite', async () => {
    const owner = uniqueUserId('owner');
    const members = Array.from({ length: 120 }, (_, i) => `${owner}-m${i}`);
    const id = await createGroup(owner, members);
    const savers = members.filter((_, i) => i % 2 === 0);
    await Promise.all(savers.map(async (u) => ok(await api.favAdd(u, { groupId: id }))));
    ok(await api.kick(owner, { groupId: id, memberIds: members.slice(0, 110) }));
    await cleanup(await busEventOf(id, 'MembersKicked'));
    const left = await Promise.all(savers.map((u) => favItem(u, id)));
    expect(left.filter((f) => f !== undefined).map((f) => f?.userId)).toEqual(savers.filter((u) => !members.slice(0, 110).includes(u)));
  });

  it('rejects an event it does not consume, loudly', async () => {
    await expect(
      cleanup({
        version: '0',
        id: 'bus-x',
        'detail-type': 'GroupRenamed',
        source: 'sealtalk.group',
        account: '0',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: {},
      }),
    ).rejects.toThrow(/does not consume GroupRenamed/);
  });

  it('fails loudly on a malformed MembersKicked', async () => {
    await expect(
      cleanup({
        version: '0',
        id: 'bus-y',
        'detail-type': 'MembersKicked',
        source: 'sealtalk.group',
        account: '0',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: { groupId: 'abc', operatorId: 'o', memberIds: [], timestamp: 1, eventId: 'e' },
      }),
    ).rejects.toThrow(/memberIds/);
  });
});
