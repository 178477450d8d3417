import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { handler as cleanup } from '#functions/group-cleanup.ts';
import { TABLE } from '#lib/store/table.ts';
import { clearShardOf, keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { db, eventsFor, groupItem, tableName } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { busEventOf, dismissLocally, expectDenied, ok, stateOf, users } from './controls-helpers.ts';

const groupWithManager = async () => {
  const [owner, manager, bob] = users('owner', 'manager', 'bob');
  const id = await createGroup(owner, [manager, bob]);
  ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
  return { id, owner, manager, bob };
};

/** Whether the scheduled job's query (one per shard: entries due by now) finds the group. */
const dueNow = async (groupId: string): Promise<boolean> => {
  const out = await db.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: TABLE.gsi2.name,
      KeyConditionExpression: 'gsi2pk = :shard AND gsi2sk <= :now',
      ExpressionAttributeValues: { ':shard': `CLEAR#${clearShardOf(groupId)}`, ':now': `${String(Date.now()).padStart(15, '0')}#~` },
    }),
  );
  return (out.Items ?? []).some((item) => item.groupId === groupId);
};

const clearEvents = async (groupId: string) => (await eventsFor(groupId)).filter((e) => e.detailType === 'RegularClearChanged').map((e) => e.detail);

describe('POST /group/set_regular_clear', () => {
  it('lets the owner switch clearing on: status, clearTimeAt, a schedule entry due now, one RegularClearChanged', async () => {
    const { id, owner } = await groupWithManager();
    const before = Date.now();
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 3 }));

    const group = await groupItem(id);
    expect(group).toMatchObject({ clearStatus: 3 });
    const at = group?.clearTimeAt as number;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect({ gsi2pk: group?.gsi2pk, gsi2sk: group?.gsi2sk }).toEqual(keys.clearSchedule(id, at));
    expect(await dueNow(id)).toBe(true);
    expect(await clearEvents(id)).toEqual([{ groupId: id, operatorId: owner, clearStatus: 3, timestamp: at }]);
  });

  it('changes the period (7 days, 36 hours), rescheduling it due now', async () => {
    const { id, owner } = await groupWithManager();
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 7 }));
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 36 }));
    const group = await groupItem(id);
    expect(group).toMatchObject({ clearStatus: 36, ...keys.clearSchedule(id, group?.clearTimeAt as number) });
    expect((await clearEvents(id)).map((e) => e.clearStatus)).toEqual([7, 36]);
  });

  it('switches clearing off: status 0, clearTimeAt null, no schedule entry, the event says 0', async () => {
    const { id, owner } = await groupWithManager();
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 36 }));
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 0 }));

    const group = await groupItem(id);
    expect(group).toMatchObject({ clearStatus: 0, clearTimeAt: null });
    expect(group).not.toHaveProperty('gsi2pk');
    expect(group).not.toHaveProperty('gsi2sk');
    expect(await dueNow(id)).toBe(false);
    expect((await clearEvents(id)).map((e) => e.clearStatus)).toEqual([36, 0]);
    expect((await api.getRegularClear(owner, { groupId: id })).body).toEqual({ code: 200, result: { clearStatus: 0 } });
  });

  it("refuses a manager, a plain member and a non-member with the reference's 400, changing nothing", async () => {
    const { id, manager, bob } = await groupWithManager();
    const before = await stateOf(id);
    for (const caller of [manager, bob, uniqueUserId('stranger')]) {
      expectDenied(await api.setRegularClear(caller, { groupId: id, clearStatus: 3 }), 400, 'Not a group owner.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 404 for unknown, impossible and dismissed groups, changing nothing', async () => {
    const { id, owner } = await groupWithManager();
    await dismissLocally(id);
    const before = await stateOf(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.setRegularClear(owner, { groupId, clearStatus: 7 }), 404, 'Unknown group.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it.each([
    [{ clearStatus: 3 }, 'groupId: required'],
    [{ groupId: null, clearStatus: 3 }, 'groupId: required'],
    [{ groupId: 'abc' }, 'clearStatus: required'],
    [{ groupId: 'abc', clearStatus: null }, 'clearStatus: required'],
    [{ groupId: 'abc', clearStatus: '3' }, 'clearStatus: expected one of the numbers 0, 3, 7, 36'],
    [{ groupId: 'abc', clearStatus: 5 }, 'clearStatus: expected one of the numbers 0, 3, 7, 36'],
    [{ groupId: 'abc', clearStatus: 3.5 }, 'clearStatus: expected one of the numbers 0, 3, 7, 36'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.setRegularClear(uniqueUserId('owner'), body), 400, message);
  });

  it('after an ownership transfer only the new owner may set it', async () => {
    const { id, owner, bob } = await groupWithManager();
    ok(await api.transfer(owner, { groupId: id, userId: bob }));
    expectDenied(await api.setRegularClear(owner, { groupId: id, clearStatus: 3 }), 400, 'Not a group owner.');
    ok(await api.setRegularClear(bob, { groupId: id, clearStatus: 3 }));
    expect((await clearEvents(id))[0]).toMatchObject({ operatorId: bob, clearStatus: 3 });
  });

  it('racing a transfer on the real engine: the old owner succeeds only while still owner', async () => {
    for (let round = 0; round < 3; round++) {
      const { id, owner, bob } = await groupWithManager();
      const [clear, transfer] = await Promise.all([
        api.setRegularClear(owner, { groupId: id, clearStatus: 7 }),
        api.transfer(owner, { groupId: id, userId: bob }),
      ]);
      ok(transfer);
      const group = await groupItem(id);
      if (clear.status === 200) expect(group).toMatchObject({ clearStatus: 7, creatorId: bob });
      else {
        expectDenied(clear, 400, 'Not a group owner.');
        expect(group).toMatchObject({ clearStatus: 0, creatorId: bob });
        expect(await clearEvents(id)).toEqual([]);
      }
    }
  });

  it('a dismissal drops the schedule entry at once (the janitor\'s takes its place until group-cleanup), keeping the stored status', async () => {
    const { id, owner } = await groupWithManager();
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 3 }));
    ok(await api.dismiss(owner, { groupId: id }));
    expect((await groupItem(id))?.gsi2pk).toBe(keys.repairSchedule(id, 0).gsi2pk);
    expect(await dueNow(id)).toBe(false);
    const event = await busEventOf(id, 'GroupDismissed');
    await cleanup(event);
    const group = await groupItem(id);
    expect(group).toMatchObject({ status: 'dismissed', clearStatus: 3 });
    expect(group).not.toHaveProperty('gsi2pk');
    expect(await dueNow(id)).toBe(false);
    await cleanup(event); // a redelivery finds nothing to do
    expect(await groupItem(id)).toEqual(group);
  });
});

describe('POST /group/get_regular_clear', () => {
  it('answers {clearStatus} to anyone who may read the group: 0 by default, then what the owner set', async () => {
    const { id, owner, bob } = await groupWithManager();
    const stranger = uniqueUserId('stranger');
    expect((await api.getRegularClear(stranger, { groupId: id })).body).toEqual({ code: 200, result: { clearStatus: 0 } });
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 7 }));
    for (const caller of [owner, bob, stranger]) {
      const reply = await api.getRegularClear(caller, { groupId: id });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ code: 200, result: { clearStatus: 7 } });
    }
  });

  it('answers a dismissed group like GET /group/{id} does, and 404 for unknown and impossible ids', async () => {
    const { id, owner } = await groupWithManager();
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 36 }));
    await dismissLocally(id);
    expect((await api.getRegularClear(owner, { groupId: id })).body).toEqual({ code: 200, result: { clearStatus: 36 } });
    for (const groupId of ['NoSuchGroup123', 'not/a/group']) {
      expectDenied(await api.getRegularClear(owner, { groupId }), 404, 'Unknown group.');
    }
  });

  it.each([
    [{}, 'groupId: required'],
    [{ groupId: '' }, 'groupId: expected a non-empty group id'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.getRegularClear(uniqueUserId('user'), body), 400, message);
  });
});
