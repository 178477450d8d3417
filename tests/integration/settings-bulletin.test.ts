import { describe, expect, it } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { eventsFor, getItem, groupItem, partitionItems } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { dismissLocally, expectDenied, ok, users } from '#tests/helpers/checks.ts';

/** Everything a denied bulletin must leave as it was: the group item, the history, the events. */
const stateOf = async (groupId: string) => ({
  group: await groupItem(groupId),
  bulletins: await partitionItems(groupId, 'BULLETIN#'),
  events: await eventsFor(groupId),
});

/** A group with an owner, a manager (through set_manager) and a plain member. */
const groupWithRoles = async () => {
  const [owner, manager, member] = users('owner', 'manager', 'member');
  const id = await createGroup(owner, [manager, member]);
  ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
  return { id, owner, manager, member };
};

const bulletinEvents = async (groupId: string) => (await eventsFor(groupId)).filter((e) => e.detailType === 'BulletinPublished');

describe('POST /group/set_bulletin', () => {
  it('lets the owner publish: a history item, the group shows it, one BulletinPublished, get_bulletin answers it', async () => {
    const { id, owner, member } = await groupWithRoles();
    const before = Date.now();
    ok(await api.setBulletin(owner, { groupId: id, bulletin: 'Meet at <b>9</b>' }));

    const group = await groupItem(id);
    expect(group).toMatchObject({ bulletin: 'Meet at &lt;b&gt;9&lt;/b&gt;', bulletinCount: 1 });
    expect(group?.bulletinTime).toBeGreaterThanOrEqual(before);
    const history = await getItem(keys.bulletin(id, 1));
    expect(history).toMatchObject({ id: 1, content: 'Meet at &lt;b&gt;9&lt;/b&gt;', operatorId: owner, timestamp: group?.bulletinTime });

    const shown = (await api.get(member, id)).body.result;
    expect(shown).toMatchObject({ bulletin: 'Meet at &lt;b&gt;9&lt;/b&gt;', bulletinTime: group?.bulletinTime });

    const events = await bulletinEvents(id);
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toEqual({
      groupId: id,
      operatorId: owner,
      bulletinId: 1,
      content: 'Meet at &lt;b&gt;9&lt;/b&gt;',
      timestamp: group?.bulletinTime,
    });

    const read = await api.getBulletin(member, { groupId: id });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ code: 200, result: { id: 1, content: 'Meet at &lt;b&gt;9&lt;/b&gt;', timestamp: group?.bulletinTime } });
  });

  it('lets a manager publish, and numbers bulletins 1, 2, 3 with the latest on the group', async () => {
    const { id, owner, manager } = await groupWithRoles();
    ok(await api.setBulletin(manager, { groupId: id, bulletin: 'first' }));
    ok(await api.setBulletin(owner, { groupId: id, content: 'second' }));
    ok(await api.setBulletin(manager, { groupId: id, bulletin: 'third' }));

    expect(await groupItem(id)).toMatchObject({ bulletin: 'third', bulletinCount: 3 });
    const history = (await partitionItems(id, 'BULLETIN#')).sort((a, b) => (a.id as number) - (b.id as number));
    expect(history.map((h) => [h.id, h.content, h.operatorId])).toEqual([
      [1, 'first', manager],
      [2, 'second', owner],
      [3, 'third', manager],
    ]);
    expect((await bulletinEvents(id)).map((e) => [e.detail.bulletinId, e.detail.operatorId])).toEqual([
      [1, manager],
      [2, owner],
      [3, manager],
    ]);
    expect((await api.getBulletin(owner, { groupId: id })).body.result).toMatchObject({ id: 3, content: 'third' });
  });

  it('prefers a non-empty content over bulletin, and uses bulletin when content is empty', async () => {
    const { id, owner } = await groupWithRoles();
    ok(await api.setBulletin(owner, { groupId: id, content: 'from content', bulletin: 'from bulletin' }));
    expect((await groupItem(id))?.bulletin).toBe('from content');
    ok(await api.setBulletin(owner, { groupId: id, content: '', bulletin: 'from bulletin' }));
    expect((await groupItem(id))?.bulletin).toBe('from bulletin');
  });

  it('accepts an empty bulletin: stored and announced with empty content (the notifier sends no @all for it)', async () => {
    const { id, owner, member } = await groupWithRoles();
    ok(await api.setBulletin(owner, { groupId: id, bulletin: 'something' }));
    ok(await api.setBulletin(owner, { groupId: id, bulletin: '' }));

    expect(await groupItem(id)).toMatchObject({ bulletin: '', bulletinCount: 2 });
    expect((await bulletinEvents(id)).map((e) => e.detail.content)).toEqual(['something', '']);
    expect((await api.getBulletin(member, { groupId: id })).body.result).toMatchObject({ id: 2, content: '' });
    expect((await api.get(member, id)).body.result).toMatchObject({ bulletin: '' });
  });

  it('accepts 1024 characters (code points, after escaping; escaped text cut to 1024) and refuses 1025', async () => {
    const { id, owner } = await groupWithRoles();
    ok(await api.setBulletin(owner, { groupId: id, bulletin: '😀'.repeat(1024) }));
    expect(Array.from((await groupItem(id))?.bulletin as string)).toHaveLength(1024);

    ok(await api.setBulletin(owner, { groupId: id, bulletin: `${'a'.repeat(1020)}<b>` }));
    expect((await groupItem(id))?.bulletin).toBe(`${'a'.repeat(1020)}&lt;`);

    const before = await stateOf(id);
    expectDenied(await api.setBulletin(owner, { groupId: id, bulletin: 'a'.repeat(1025) }), 400, 'bulletin: Length of bulletin invalid.');
    expectDenied(await api.setBulletin(owner, { groupId: id, content: 'a'.repeat(1025) }), 400, 'content: Length of bulletin invalid.');
    expect(await stateOf(id)).toEqual(before);
  });

  it('refuses plain members and non-members with HTTP 403, writing nothing', async () => {
    const { id, owner, member } = await groupWithRoles();
    ok(await api.setBulletin(owner, { groupId: id, bulletin: 'kept' }));
    const before = await stateOf(id);
    for (const caller of [member, uniqueUserId('stranger')]) {
      expectDenied(
        await api.setBulletin(caller, { groupId: id, bulletin: 'hijacked' }),
        403,
        'Only the group owner or a manager can set the bulletin.',
      );
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 404 for unknown, impossible and dismissed groups, writing nothing', async () => {
    const { id, owner } = await groupWithRoles();
    await dismissLocally(id);
    const before = await stateOf(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.setBulletin(owner, { groupId, bulletin: 'hello' }), 404, 'Unknown group.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it.each([
    [{ bulletin: 'x' }, 'groupId: required'],
    [{ groupId: '', bulletin: 'x' }, 'groupId: expected a non-empty group id'],
    [{ groupId: null, bulletin: 'x' }, 'groupId: required'],
    [{ groupId: 'abc' }, 'bulletin: required'],
    [{ groupId: 'abc', bulletin: null }, 'bulletin: required'],
    [{ groupId: 'abc', content: '' }, 'content: expected a non-empty bulletin'],
    [{ groupId: 'abc', content: 5 }, 'content: expected a string'],
    [{ groupId: 'abc', bulletin: ['x'] }, 'bulletin: expected a string'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.setBulletin(uniqueUserId('owner'), body), 400, message);
  });

  it('gives concurrent bulletins distinct increasing ids: one history item and one event each', async () => {
    const { id, owner, manager } = await groupWithRoles();
    const texts = Array.from({ length: 6 }, (_, i) => `bulletin ${i}`);
    const replies = await Promise.all(texts.map((bulletin, i) => api.setBulletin(i % 2 ? manager : owner, { groupId: id, bulletin })));
    for (const reply of replies) ok(reply);

    const history = await partitionItems(id, 'BULLETIN#');
    expect(history.map((h) => h.id as number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(history.map((h) => h.content as string).sort()).toEqual([...texts].sort());
    // Later ids are never older than earlier ones.
    const byId = [...history].sort((a, b) => (a.id as number) - (b.id as number));
    for (let i = 1; i < byId.length; i++) expect(byId[i]?.timestamp as number).toBeGreaterThanOrEqual(byId[i - 1]?.timestamp as number);

    const group = await groupItem(id);
    const latest = byId[byId.length - 1];
    expect(group).toMatchObject({ bulletinCount: 6, bulletin: latest?.content, bulletinTime: latest?.timestamp });
    const events = await bulletinEvents(id);
    expect(events.map((e) => e.detail.bulletinId).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const h of history) expect(events.find((e) => e.detail.bulletinId === h.id)?.detail.content).toBe(h.content);
  });
});

describe('GET /group/get_bulletin', () => {
  it('answers HTTP 402 "No group bulletin." for a group that never had one', async () => {
    const { id, member } = await groupWithRoles();
    expectDenied(await api.getBulletin(member, { groupId: id }), 402, 'No group bulletin.');
  });

  it('accepts the documented ?id= as well as ?groupId=', async () => {
    const { id, owner } = await groupWithRoles();
    ok(await api.setBulletin(owner, { groupId: id, bulletin: 'hello' }));
    const byId = await api.getBulletin(owner, { id });
    const byGroupId = await api.getBulletin(owner, { groupId: id });
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(byGroupId.body);
    expect(byId.body.result).toEqual({ id: 1, content: 'hello', timestamp: expect.any(Number) });
  });

  it('is readable by anyone (as GET /group/{id}), with a numeric id and no groupId field', async () => {
    const { id, owner } = await groupWithRoles();
    ok(await api.setBulletin(owner, { groupId: id, bulletin: 'public' }));
    const reply = await api.getBulletin(uniqueUserId('stranger'), { groupId: id });
    expect(reply.status).toBe(200);
    const result = reply.body.result as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(['content', 'id', 'timestamp']);
    expect(typeof result.id).toBe('number');
    expect(typeof result.timestamp).toBe('number');
  });

  it('still shows the last bulletin of a dismissed group, as GET /group/{id} does', async () => {
    const { id, owner, member } = await groupWithRoles();
    ok(await api.setBulletin(owner, { groupId: id, bulletin: 'last words' }));
    await dismissLocally(id);
    expect((await api.getBulletin(member, { groupId: id })).body.result).toMatchObject({ id: 1, content: 'last words' });
  });

  it('answers 404 for unknown and impossible groups', async () => {
    for (const groupId of ['NoSuchGroup123', 'not/a/group']) {
      expectDenied(await api.getBulletin(uniqueUserId('user'), { groupId }), 404, 'Unknown group.');
    }
  });

  it.each([
    [{}, 'groupId: required'],
    [{ groupId: '' }, 'groupId: expected a non-empty group id'],
    [{ id: '' }, 'groupId: expected a non-empty group id'],
  ])('rejects %j with a 400 naming groupId', async (query, message) => {
    expectDenied(await api.getBulletin(uniqueUserId('user'), query), 400, message);
  });
});
