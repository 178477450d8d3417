import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { memberItem, profileItem } from '#tests/helpers/db.ts';
import { startTestPipeline, type TestPipeline } from '#tests/helpers/pipeline.ts';
import type { RecordedCall } from '#tests/helpers/fake-rongcloud.ts';

/**
 * The whole path a committed change takes, on DynamoDB Local: the outbox item on the table's
 * stream → the relay → the local bus (PutEvents) → the notifier through its queue → signed
 * RongCloud calls at the fake, which verifies every signature.
 */

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startTestPipeline();
});
afterAll(async () => {
  await pipeline?.close();
});

const content = (call: RecordedCall): Record<string, unknown> => JSON.parse(call.form.get('content') ?? 'null') as Record<string, unknown>;
const summary = (call: RecordedCall) => `${call.path} ${call.form.get('objectName') ?? ''}`.trim();

/** A user whose profile says "ask me before adding me to a group". */
const askingUser = async (prefix: string, name: string) => {
  const id = uniqueUserId(prefix);
  await api.userGroups({ sub: id, name, group_verify: '0' });
  return id;
};

describe('a created group reaches RongCloud', () => {
  it('creates the IM group with every member, then announces it from __system__ with data and its nested copy', async () => {
    const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
    const reply = await api.create({ sub: alice, name: 'Alice' }, { name: 'Hikers', memberIds: [bob] });
    const groupId = (reply.body.result as { id: string }).id;
    await pipeline.settled();

    const calls = pipeline.callsFor(groupId);
    expect(calls.map(summary)).toEqual(['/group/create.json', '/message/group/publish.json ST:GrpNtf']);
    const [create, notice] = calls as [RecordedCall, RecordedCall];
    expect(create.form.get('groupId')).toBe(groupId);
    expect(create.form.get('groupName')).toBe('Hikers');
    expect(create.form.getAll('userId').sort()).toEqual([alice, bob].sort());

    expect(notice.form.get('fromUserId')).toBe('__system__');
    expect(notice.form.get('toGroupId')).toBe(groupId);
    const body = content(notice);
    const data = { operatorNickname: 'Alice', targetGroupName: 'Hikers', timestamp: expect.any(Number) };
    expect(body).toEqual({ operatorUserId: alice, operation: 'Create', data: { ...data, data }, message: '' });
    const nested = body.data as { timestamp: number; data: { timestamp: number } };
    expect(nested.data.timestamp).toBe(nested.timestamp);

    // Every accepted call was signed with the app's key (the fake rejects anything else).
    for (const call of calls) expect(call.headers['app-key']).toBe(pipeline.fake.appKey);
    expect(pipeline.fake.groups.get(groupId)).toMatchObject({ name: 'Hikers', members: new Set([alice, bob]) });
  });

  it('sends users who must consent an ST:GrpApply invitation from __group_apply__, and keeps them out of the IM group', async () => {
    const alice = uniqueUserId('alice');
    const bob = uniqueUserId('bob');
    const carol = await askingUser('carol', 'Carol');
    const dave = await askingUser('dave', 'Dave');
    const reply = await api.create({ sub: alice, name: 'Alice' }, { name: 'Climbers', memberIds: [bob, carol, dave] });
    const groupId = (reply.body.result as { id: string }).id;
    await pipeline.settled();

    const calls = pipeline.callsFor(groupId);
    expect(calls.map(summary).sort()).toEqual(
      ['/group/create.json', '/message/group/publish.json ST:GrpNtf', '/message/private/publish.json ST:GrpApply'].sort(),
    );
    // Within the creation: the IM group first, then its announcement.
    expect(calls.findIndex((c) => c.path === '/group/create.json')).toBeLessThan(calls.findIndex((c) => c.form.get('objectName') === 'ST:GrpNtf'));
    const create = calls.find((c) => c.path === '/group/create.json')!;
    expect(create.form.getAll('userId').sort()).toEqual([alice, bob].sort());

    const apply = calls.find((c) => c.form.get('objectName') === 'ST:GrpApply')!;
    expect(apply.form.get('fromUserId')).toBe('__group_apply__');
    expect(apply.form.getAll('toUserId').sort()).toEqual([carol, dave].sort());
    expect(content(apply)).toEqual({
      operatorUserId: alice,
      operation: 'Invite',
      data: { operatorNickname: 'Alice', targetGroupId: groupId, targetGroupName: 'Climbers', status: 2, type: 1, timestamp: expect.any(Number) },
    });
    expect(pipeline.fake.groups.get(groupId)?.members).toEqual(new Set([alice, bob]));
  });

  it('refreshes the IM name on rename, then announces it; each call once', async () => {
    const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
    const groupId = await createGroup({ sub: alice, name: 'Alice' }, [bob], 'Before');
    await pipeline.settled();
    expect((await api.rename({ sub: alice, name: 'Alice A.' }, { groupId, name: 'After' })).body.code).toBe(200);
    await pipeline.settled();

    const calls = pipeline.callsFor(groupId);
    expect(calls.map(summary)).toEqual([
      '/group/create.json',
      '/message/group/publish.json ST:GrpNtf',
      '/group/refresh.json',
      '/message/group/publish.json ST:GrpNtf',
    ]);
    expect(calls[2]!.form.get('groupName')).toBe('After');
    const data = { operatorNickname: 'Alice A.', targetGroupName: 'After', timestamp: expect.any(Number) };
    expect(content(calls[3]!)).toEqual({ operatorUserId: alice, operation: 'Rename', data: { ...data, data }, message: '' });
    expect(pipeline.fake.groups.get(groupId)?.name).toBe('After');
  });

  it('publishes each outbox event once with its eventId, as source sealtalk.group and detail-type the event name', async () => {
    const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
    const groupId = await createGroup(alice, [bob], 'Published');
    await pipeline.settled();
    const published = pipeline.events.bus.published.filter((e) => (e.detail as { groupId?: string }).groupId === groupId);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      source: 'sealtalk.group',
      'detail-type': 'GroupCreated',
      detail: { groupId, operatorId: alice, name: 'Published', memberIds: [bob, alice], eventId: expect.any(String) },
    });
    expect(pipeline.deadLetters()).toEqual([]);
  });
});

describe('a group’s whole membership life reaches RongCloud', () => {
  it('ends with IM matching the table after add, join, kick, managers, transfer, quit and dismiss', async () => {
    const [olive, bob, carol, dave, erin] = ['olive', 'bob', 'carol', 'dave', 'erin'].map((p) => uniqueUserId(p)) as [string, string, string, string, string];
    const groupId = await createGroup({ sub: olive, name: 'Olive' }, [bob], 'Life');
    const ok = (reply: { body: { code?: number } }) => expect(reply.body.code).toBe(200);
    ok(await api.add(olive, { groupId, memberIds: [carol, dave] }));
    ok(await api.join(erin, { groupId }));
    await pipeline.settled();
    expect(pipeline.fake.groups.get(groupId)?.members).toEqual(new Set([olive, bob, carol, dave, erin]));

    ok(await api.kick(olive, { groupId, memberIds: [dave] }));
    ok(await api.setManager(olive, { groupId, memberIds: [bob] }));
    ok(await api.transfer(olive, { groupId, userId: carol }));
    ok(await api.quit(olive, { groupId }));
    await pipeline.settled();
    expect(pipeline.fake.groups.get(groupId)?.members).toEqual(new Set([bob, carol, erin]));
    const operations = pipeline
      .callsFor(groupId)
      .filter((c) => c.form.get('objectName') === 'ST:GrpNtf')
      .map((c) => (JSON.parse(c.form.get('content') ?? '{}') as { operation: string }).operation);
    expect(operations.sort()).toEqual(['Add', 'Add', 'Create', 'Kicked', 'Quit', 'SetManager', 'Transfer'].sort());

    ok(await api.dismiss(carol, { groupId }));
    await pipeline.settled();
    expect(pipeline.fake.groups.has(groupId)).toBe(false);
    // The cleanup consumer released every member (the same bus, another rule).
    for (const user of [bob, carol, erin]) expect((await profileItem(user))?.groupCount, user).toBe(0);
    expect(await memberItem(groupId, bob)).toBeUndefined();
    expect(pipeline.deadLetters()).toEqual([]);
  });
});
