import { BatchWriteCommand, PutCommand, type BatchWriteCommandInput, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '#functions/group-cleanup.ts';
import type { Notice } from '#lib/domain/model.ts';
import { EVENT_SOURCE } from '#lib/events/index.ts';
import { batchGet } from '#lib/store/batch.ts';
import { inboxToItem, noticeToItem } from '#lib/store/items.ts';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { db, eventsFor, getItem, groupItem, partitionItems, patch, profileItem, tableName } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { busEventOf } from './controls-helpers.ts';

// Groups of up to 3000 members (the highest MAX_GROUP_MEMBERS the config accepts): vi.hoisted runs
// before the imports above, so the handlers read it with their config.
vi.hoisted(() => {
  process.env.MAX_GROUP_MEMBERS = '3000';
});

const DAY_S = 24 * 3600;


const dismiss = async (owner: string, groupId: string) => {
  const reply = await api.dismiss(owner, { groupId });
  expect(reply.body).toEqual({ code: 200 });
  return busEventOf(groupId, 'GroupDismissed');
};

/** Each user's group count, in the order given (one strongly consistent batch read). */
const groupCounts = async (userIds: string[]): Promise<(number | undefined)[]> => {
  const items = await batchGet(db, tableName(), userIds.map(keys.profile), true);
  const byUser = new Map(items.map((item) => [item.userId as string, item.groupCount as number]));
  return userIds.map((u) => byUser.get(u));
};

/** Writes a notice and its viewers' pointers as an endpoint of the invitations area would. */
const putNotice = async (notice: Notice) => {
  await db.send(new PutCommand({ TableName: tableName(), Item: noticeToItem(notice) }));
  for (const viewerId of notice.viewerIds) await db.send(new PutCommand({ TableName: tableName(), Item: inboxToItem(viewerId, notice) }));
};

const notice = (groupId: string, fields: Partial<Notice> & Pick<Notice, 'type' | 'receiverId' | 'viewerIds'>): Notice => {
  const now = Date.now();
  return { groupId, requesterId: 'someone', status: 2, createdAt: now, timestamp: now, expiresAt: Math.floor(now / 1000) + 7 * DAY_S, ...fields };
};

/** Seeds profiles with a group count each (as if they were in other groups), 25 per batch. */
const seedProfiles = async (counts: Map<string, number>) => {
  const items = [...counts].map(([userId, groupCount]) => ({ ...keys.profile(userId), kind: 'profile', userId, groupCount }));
  const batches: (typeof items)[] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  for (let i = 0; i < batches.length; i += 16) {
    await Promise.all(
      batches.slice(i, i + 16).map(async (batch) => {
        let pending: NonNullable<BatchWriteCommandInput['RequestItems']>[string] | undefined = batch.map((Item) => ({ PutRequest: { Item } }));
        while (pending && pending.length > 0) {
          const out: BatchWriteCommandOutput = await db.send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
          pending = out.UnprocessedItems?.[tableName()];
        }
      }),
    );
  }
};

describe('group-cleanup (GroupDismissed consumer)', () => {
  it('releases every member, expires the waiting notices, and announces them once', async () => {
    const [owner, manager, bob, shy, asker] = ['owner', 'manager', 'bob', 'shy', 'asker'].map(uniqueUserId) as [string, string, string, string, string];
    await api.userGroups({ sub: shy, group_verify: '0' });
    const id = await createGroup(owner, [manager, bob, shy]);
    const other = await createGroup(bob, [manager]);
    expect((await api.setManager(owner, { groupId: id, memberIds: [manager] })).body).toEqual({ code: 200 });
    // A join request waiting for the owner and the manager, a lapsed one, a decided one.
    await putNotice(notice(id, { type: 2, receiverId: asker, viewerIds: [owner, manager] }));
    const lapsed = uniqueUserId('lapsed');
    await putNotice(notice(id, { type: 2, receiverId: lapsed, viewerIds: [owner], expiresAt: Math.floor(Date.now() / 1000) - 60 }));
    const decided = uniqueUserId('decided');
    await putNotice(notice(id, { type: 1, receiverId: decided, viewerIds: [decided], status: 1 }));
    expect(await groupCounts([owner, manager, bob])).toEqual([1, 2, 2]);

    const event = await dismiss(owner, id);
    // The dismissal scheduled the janitor, in case this cleanup never finishes.
    expect((await groupItem(id))?.gsi2pk).toBe(keys.repairSchedule(id, 0).gsi2pk);
    await handler(event);

    expect(await partitionItems(id, 'MEMBER#')).toEqual([]);
    expect(await groupCounts([owner, manager, bob])).toEqual([0, 1, 1]);
    // Cleaned up: the janitor's entry is gone (removed last).
    expect(await groupItem(id)).not.toHaveProperty('gsi2pk');
    expect((await groupItem(id))?.memberCount).toBe(0);
    // Other groups are untouched.
    expect(await partitionItems(other, 'MEMBER#')).toHaveLength(2);

    const nowS = Date.now() / 1000;
    for (const [type, receiverId] of [[1, shy], [2, asker]] as const) {
      const expired = await getItem(keys.notice(id, type, receiverId));
      expect(expired).toMatchObject({ status: 3 });
      expect(expired?.timestamp).toBeGreaterThanOrEqual((event.detail as { timestamp: number }).timestamp);
      expect(expired?.expiresAt).toBeGreaterThan(nowS + 29 * DAY_S);
      expect(expired?.expiresAt).toBeLessThanOrEqual(nowS + 30 * DAY_S + 1);
    }
    expect(await getItem(keys.notice(id, 2, lapsed))).toMatchObject({ status: 2 });
    expect(await getItem(keys.notice(id, 1, decided))).toMatchObject({ status: 1 });

    const announced = (await eventsFor(id)).filter((e) => e.detailType === 'NoticesExpired');
    expect(announced).toHaveLength(1);
    expect(announced[0]?.detail).toEqual({ groupId: id, operatorId: owner, recipientIds: expect.any(Array), timestamp: expect.any(Number) });
    expect((announced[0]?.detail.recipientIds as string[]).sort()).toEqual([shy, owner, manager].sort());

    // Nobody lists the group any more; it still answers with deletedAt.
    for (const user of [owner, manager, bob]) {
      const listed = (await api.userGroups(user)).body.result as { group: { id: string } }[];
      expect(listed.map((g) => g.group.id)).not.toContain(id);
    }
    expect(((await api.get(bob, id)).body.result as { deletedAt: string | null }).deletedAt).toEqual(expect.any(String));
  });

  it('is idempotent: a redelivered event changes nothing and announces nothing again', async () => {
    const [owner, bob, shy] = ['owner', 'bob', 'shy'].map(uniqueUserId) as [string, string, string];
    await api.userGroups({ sub: shy, group_verify: '0' });
    const id = await createGroup(owner, [bob, shy]);
    const event = await dismiss(owner, id);
    await handler(event);
    const counts = await groupCounts([owner, bob]);
    const events = await eventsFor(id);

    await handler(event);
    await handler({ ...event, id: uniqueUserId('bus') });

    expect(await groupCounts([owner, bob])).toEqual(counts);
    expect(counts).toEqual([0, 0]);
    expect(await eventsFor(id)).toEqual(events);
    expect(events.filter((e) => e.detailType === 'NoticesExpired')).toHaveLength(1);
  });

  it('writes no NoticesExpired when no notice was waiting', async () => {
    const [owner, bob] = ['owner', 'bob'].map(uniqueUserId) as [string, string];
    const id = await createGroup(owner, [bob]);
    await handler(await dismiss(owner, id));
    expect((await eventsFor(id)).map((e) => e.detailType)).toEqual(['GroupCreated', 'GroupDismissed']);
    expect(await groupCounts([owner, bob])).toEqual([0, 0]);
  });

  it('resumes after a partial run: announces the notices an earlier run expired', async () => {
    const [owner, bob, shy] = ['owner', 'bob', 'shy'].map(uniqueUserId) as [string, string, string];
    await api.userGroups({ sub: shy, group_verify: '0' });
    const id = await createGroup(owner, [bob, shy]);
    const event = await dismiss(owner, id);
    // An earlier run expired the notice and released bob, then died before the rest.
    const key = keys.notice(id, 1, shy);
    await patch(key, { status: 3, dismissalExpiredAt: Date.now() });
    await db.send(
      new BatchWriteCommand({ RequestItems: { [tableName()]: [{ DeleteRequest: { Key: keys.member(id, bob) } }] } }),
    );
    await patch(keys.profile(bob), { groupCount: 0 });

    await handler(event);

    expect(await partitionItems(id, 'MEMBER#')).toEqual([]);
    expect(await groupCounts([owner, bob])).toEqual([0, 0]);
    const announced = (await eventsFor(id)).filter((e) => e.detailType === 'NoticesExpired');
    expect(announced.map((e) => e.detail.recipientIds)).toEqual([[shy]]);
  });

  it('leaves an active group alone and fails loudly on a malformed event', async () => {
    const [owner, bob] = ['owner', 'bob'].map(uniqueUserId) as [string, string];
    const id = await createGroup(owner, [bob]);
    const event = await busEventOf(id, 'GroupDismissed').catch(() => null);
    expect(event).toBeNull();
    await handler({
      version: '0',
      id: 'bus-1',
      'detail-type': 'GroupDismissed',
      source: EVENT_SOURCE,
      account: '0',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { groupId: id, operatorId: owner, whitelistIds: [owner], timestamp: Date.now(), eventId: 'e-1' },
    });
    expect(await partitionItems(id, 'MEMBER#')).toHaveLength(2);
    expect(await groupCounts([owner, bob])).toEqual([1, 1]);

    await expect(
      handler({
        version: '0',
        id: 'bus-2',
        'detail-type': 'GroupDismissed',
        source: EVENT_SOURCE,
        account: '0',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: { groupId: id, whitelistIds: [], timestamp: Date.now() },
      }),
    ).rejects.toThrow(/operatorId|eventId/);
  });

  it(
    'cleans up a large dismissal (600 members, a dozen chunks) in one invocation; concurrent and repeated runs keep counts exact',
    { timeout: 180_000 },
    async () => {
      const owner = uniqueUserId('owner');
      // Speed at 3000 members is measured by `npm run bench` (tests/bench/membership.ts), not here.
      const memberIds = Array.from({ length: 599 }, (_, i) => `${owner}-m${i}`);
      // Members are in 0–2 other groups already; afterwards each count must be exactly that again.
      const before = new Map(memberIds.map((u, i): [string, number] => [u, i % 3]));
      await seedProfiles(before);
      const shy = uniqueUserId('shy');
      const id = await createGroup(owner, memberIds);
      await putNotice(notice(id, { type: 1, receiverId: shy, viewerIds: [shy] }));
      expect((await groupItem(id))?.memberCount).toBe(600);
      const event = await dismiss(owner, id);
      expect((await eventsFor(id)).filter((e) => e.detailType === 'GroupDismissed')).toHaveLength(1);

      await handler(event);

      expect(await partitionItems(id, 'MEMBER#')).toEqual([]);
      const after = await groupCounts(memberIds);
      expect(after).toEqual(memberIds.map((u) => before.get(u)));
      expect((await profileItem(owner))?.groupCount).toBe(0);

      // Two concurrent redeliveries and one more: nothing left to do, nothing counted twice.
      await Promise.all([handler(event), handler(event)]);
      await handler(event);
      expect(await groupCounts(memberIds)).toEqual(memberIds.map((u) => before.get(u)));
      const announced = (await eventsFor(id)).filter((e) => e.detailType === 'NoticesExpired');
      expect(announced.map((e) => e.detail.recipientIds)).toEqual([[shy]]);
    },
  );

  it('keeps counts exact when two deliveries release the same large group at once', { timeout: 180_000 }, async () => {
    const owner = uniqueUserId('owner');
    const memberIds = Array.from({ length: 599 }, (_, i) => `${owner}-c${i}`);
    const before = new Map(memberIds.map((u, i): [string, number] => [u, (i * 7) % 4]));
    await seedProfiles(before);
    const shy = uniqueUserId('shy');
    const id = await createGroup(owner, memberIds);
    await putNotice(notice(id, { type: 1, receiverId: shy, viewerIds: [shy] }));
    const event = await dismiss(owner, id);

    await Promise.all([handler(event), handler(event)]);
    await handler(event);

    expect(await partitionItems(id, 'MEMBER#')).toEqual([]);
    const after = await groupCounts(memberIds);
    expect(after).toEqual(memberIds.map((u) => before.get(u)));
    expect(after.every((c) => c !== undefined && c >= 0)).toBe(true);
    expect((await profileItem(owner))?.groupCount).toBe(0);
    const announced = (await eventsFor(id)).filter((e) => e.detailType === 'NoticesExpired');
    expect(announced.map((e) => e.detail.recipientIds)).toEqual([[shy]]);
    expect(await getItem(keys.notice(id, 1, shy))).toMatchObject({ status: 3 });
  });
});
