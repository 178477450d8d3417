import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { exitToItem } from '#lib/store/items.ts';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup, type As, type Reply } from '#tests/helpers/endpoints.ts';
import { db, eventsFor, getItem, groupItem, memberItem, patch, profileItem, tableName } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/** POST /group/add, /group/join, /group/agree, GET /group/notice_info, POST /group/clear_notice. */

const DAY_S = 24 * 3600;
const EXISTS = { code: 400, message: 'Should not add exist member to the group.' };
const UNKNOWN = { code: 404, message: 'Unknown group.' };
const full = (max: number) => ({ code: 400, message: `Group's member count is out of max group member count limit (${max}).` });
const NOT_ADDRESSED = { code: 403, message: 'Only the owner or a manager this request was sent to can answer it.' };
const NOTICE_NOT_FOUND = { code: 20003, message: 'Unknown notice.' };

const nowS = () => Math.floor(Date.now() / 1000);
/** Users who asked to be asked before being added (`groupVerify` 0). */
const askFirst = (userId: string) => patch(keys.profile(userId), { userId, kind: 'profile', groupVerify: 0 });
const setGroupCount = (userId: string, groupCount: number) => patch(keys.profile(userId), { userId, kind: 'profile', groupCount });
const certify = (groupId: string) => patch(keys.group(groupId), { certiStatus: 0 });
const dismiss = (groupId: string) => patch(keys.group(groupId), { status: 'dismissed', deletedAt: new Date().toISOString() });
const makeManagers = async (groupId: string, userIds: string[]) => {
  for (const u of userIds) await patch(keys.member(groupId, u), { role: 2 });
  await patch(keys.group(groupId), { managerIds: userIds });
};
const putExit = (groupId: string, userId: string, quitTime: number) =>
  db.send(
    new PutCommand({
      TableName: tableName(),
      Item: exitToItem({
        groupId,
        quitUserId: userId,
        quitNickname: 'Old name',
        quitPortraitUri: '',
        quitReason: 2,
        quitTime,
        operatorId: null,
        operatorName: null,
      }),
    }),
  );

const query = async (pk: string, prefix = '') =>
  (
    await db.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
        ExpressionAttributeValues: prefix ? { ':pk': pk, ':p': prefix } : { ':pk': pk },
        ConsistentRead: true,
      }),
    )
  ).Items ?? [];
const exitsOf = (groupId: string, userId: string) => query(keys.group(groupId).pk, `EXITED#${userId}`);
const noticesOf = (groupId: string) => query(keys.group(groupId).pk, 'NOTICE#');
const inboxOf = (userId: string) => query(keys.profile(userId).pk, 'INBOX#');
const notice = (groupId: string, type: number, receiverId: string) => getItem(keys.notice(groupId, type, receiverId));

/** Everything a denial must leave as it was: the group's partition, its events, the users' counts and notice lists. */
const snapshot = async (groupId: string, users: string[]) => ({
  partition: await query(keys.group(groupId).pk),
  events: await eventsFor(groupId),
  profiles: await Promise.all(users.map(profileItem)),
  inboxes: await Promise.all(users.map(inboxOf)),
});
const expectUnchanged = async (groupId: string, users: string[], before: Awaited<ReturnType<typeof snapshot>>) =>
  expect(await snapshot(groupId, users)).toEqual(before);

const expectDenied = (reply: Reply, status: number, body: Record<string, unknown>) => {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual(body);
};

const eventTypes = async (groupId: string) => (await eventsFor(groupId)).map((e) => e.detailType);
const lastEvents = async (groupId: string, n: number) => (await eventsFor(groupId)).slice(-n);

interface NoticeItem {
  id: string;
  type: number;
  status: number;
  timestamp: number;
  createdTime: number;
  createdAt: string;
  requester: { id: string; nickname: string };
  receiver: { id: string; nickname: string };
  group: { id: string; name: string };
}
const noticeInfo = async (as: As) => {
  const reply = await api.noticeInfo(as);
  expect(reply.status).toBe(200);
  return reply.body.result as NoticeItem[];
};

/** A group of owner + bob (+ more), with ids. */
const setup = async (extra = 0) => {
  const owner = uniqueUserId('owner');
  const bob = uniqueUserId('bob');
  const others = Array.from({ length: extra }, () => uniqueUserId('m'));
  const id = await createGroup(owner, [bob, ...others]);
  return { id, owner, bob, others };
};

describe('POST /group/add', () => {
  it('lets the owner admit users directly, with exact counts and one MembersJoined event', async () => {
    const { id, owner } = await setup();
    const [carol, dave] = [uniqueUserId('carol'), uniqueUserId('dave')];
    const reply = await api.add(owner, { groupId: id, memberIds: [carol, dave] });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 200, result: [{ id: carol, status: 1 }, { id: dave, status: 1 }] });

    expect(await groupItem(id)).toMatchObject({ memberCount: 4 });
    expect(await memberItem(id, carol)).toMatchObject({ role: 1, displayName: '', groupNickname: '' });
    expect((await profileItem(dave))?.groupCount).toBe(1);
    const [joined] = await lastEvents(id, 1);
    expect(joined).toMatchObject({ detailType: 'MembersJoined', detail: { groupId: id, operatorId: owner, memberIds: [carol, dave] } });
  });

  it('lets a plain member admit users directly while certification is off', async () => {
    const { id, bob } = await setup();
    const carol = uniqueUserId('carol');
    const reply = await api.add(bob, { groupId: id, memberIds: [carol] });
    expect(reply.body).toEqual({ code: 200, result: [{ id: carol, status: 1 }] });
    expect((await memberItem(id, carol))?.role).toBe(1);
    expect((await lastEvents(id, 1))[0]?.detail).toMatchObject({ operatorId: bob, memberIds: [carol] });
  });

  it('collapses duplicate ids', async () => {
    const { id, owner } = await setup();
    const carol = uniqueUserId('carol');
    const reply = await api.add(owner, { groupId: id, memberIds: [carol, carol, carol] });
    expect(reply.body.result).toEqual([{ id: carol, status: 1 }]);
    expect((await groupItem(id))?.memberCount).toBe(3);
    expect((await profileItem(carol))?.groupCount).toBe(1);
  });

  it('invites users who asked to be asked (status 3, listed first), whoever invites', async () => {
    const { id, bob } = await setup();
    const [carol, shy] = [uniqueUserId('carol'), uniqueUserId('shy')];
    await askFirst(shy);
    await certify(id); // a plain member inviting into a certified group: carol waits for a manager
    const reply = await api.add(bob, { groupId: id, memberIds: [carol, shy] });
    expect(reply.body).toEqual({ code: 200, result: [{ id: shy, status: 3 }, { id: carol, status: 2 }] });

    expect(await memberItem(id, shy)).toBeUndefined();
    const invitation = await notice(id, 1, shy);
    expect(invitation).toMatchObject({ type: 1, status: 2, requesterId: bob, receiverId: shy, viewerIds: [shy] });
    expect(invitation?.expiresAt).toBeGreaterThan(nowS() + 7 * DAY_S - 60);
    expect(invitation?.expiresAt).toBeLessThanOrEqual(nowS() + 7 * DAY_S);
    expect((await inboxOf(shy)).map((p) => p.groupId)).toEqual([id]);
  });

  it('asks the owner and managers when a plain member invites into a certified group (status 2)', async () => {
    const { id, owner, bob, others } = await setup(1);
    const manager = others[0] as string;
    await makeManagers(id, [manager]);
    await certify(id);
    const carol = uniqueUserId('carol');
    await putExit(id, carol, Date.now() - 1000);

    const reply = await api.add(bob, { groupId: id, memberIds: [carol] });
    expect(reply.body).toEqual({ code: 200, result: [{ id: carol, status: 2 }] });
    expect(await memberItem(id, carol)).toBeUndefined();
    expect((await groupItem(id))?.memberCount).toBe(3);
    expect(await notice(id, 2, carol)).toMatchObject({ type: 2, status: 2, requesterId: bob, receiverId: carol, viewerIds: [owner, manager] });
    expect((await inboxOf(owner)).length).toBe(1);
    expect((await inboxOf(manager)).length).toBe(1);
    expect(await inboxOf(carol)).toEqual([]);
    // Only an admission removes exit records (the reference also removed them here: a bug).
    expect(await exitsOf(id, carol)).toHaveLength(1);

    const [invited] = await lastEvents(id, 1);
    expect(invited).toMatchObject({
      detailType: 'GroupInvited',
      detail: { requesterId: bob, receiverIds: [carol], recipientIds: [owner, manager], noticeType: 2, status: 2 },
    });
  });

  it('lets a manager admit directly into a certified group', async () => {
    const { id, others } = await setup(1);
    const manager = others[0] as string;
    await makeManagers(id, [manager]);
    await certify(id);
    const carol = uniqueUserId('carol');
    expect((await api.add(manager, { groupId: id, memberIds: [carol] })).body.result).toEqual([{ id: carol, status: 1 }]);
    expect((await memberItem(id, carol))?.role).toBe(1);
  });

  it('writes one GroupInvited per notice type used, and MembersJoined for the admitted', async () => {
    const { id, owner } = await setup();
    const [carol, shy] = [uniqueUserId('carol'), uniqueUserId('shy')];
    await askFirst(shy);
    await api.add(owner, { groupId: id, memberIds: [shy, carol] });
    const events = await lastEvents(id, 2);
    expect(events.map((e) => e.detailType)).toEqual(['GroupInvited', 'MembersJoined']);
    expect(events[0]?.detail).toMatchObject({ requesterId: owner, receiverIds: [shy], recipientIds: [shy], noticeType: 1, status: 2 });
    expect(events[1]?.detail).toMatchObject({ operatorId: owner, memberIds: [carol] });
  });

  it('removes the exit record of each user it admits (one per user: a later departure replaces it)', async () => {
    const { id, owner } = await setup();
    const [carol, dave] = [uniqueUserId('carol'), uniqueUserId('dave')];
    await putExit(id, carol, Date.now() - 2000);
    await putExit(id, carol, Date.now() - 1000);
    await putExit(id, dave, Date.now() - 1000);
    expect(await exitsOf(id, carol)).toEqual([expect.objectContaining({ sk: `EXITED#${carol}`, quitTime: expect.any(Number) })]);
    await api.add(owner, { groupId: id, memberIds: [carol, dave] });
    expect(await exitsOf(id, carol)).toEqual([]);
    expect(await exitsOf(id, dave)).toEqual([]);
  });

  it('expires the waiting join request of a user it admits', async () => {
    const { id, owner } = await setup();
    const carol = uniqueUserId('carol');
    await certify(id);
    expect((await api.join(carol, { groupId: id })).body.result).toEqual({ status: 2 });
    await patch(keys.group(id), { certiStatus: 1 });
    await api.add(owner, { groupId: id, memberIds: [carol] });
    const request = await notice(id, 2, carol);
    expect(request).toMatchObject({ status: 3 });
    expect(request?.expiresAt).toBeGreaterThan(nowS() + 29 * DAY_S);
  });

  it('upserts one notice on repeated invitations: new requester and time, status back to waiting', async () => {
    const { id, owner, bob } = await setup();
    const shy = uniqueUserId('shy');
    await askFirst(shy);
    await api.add(owner, { groupId: id, memberIds: [shy] });
    const first = await notice(id, 1, shy);
    expect((await api.agree(shy, { groupId: id, receiverId: shy, status: 0 })).body).toEqual({ code: 200 });
    expect((await notice(id, 1, shy))?.status).toBe(0);

    await new Promise((resolve) => setTimeout(resolve, 5));
    await api.add(bob, { groupId: id, memberIds: [shy] });
    const notices = await noticesOf(id);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ type: 1, status: 2, requesterId: bob, receiverId: shy });
    expect(notices[0]?.timestamp).toBeGreaterThan(first?.timestamp as number);
    expect(await inboxOf(shy)).toHaveLength(1);

    // While it waits, a repeated invitation keeps the time of the first request.
    const waiting = notices[0];
    await api.add(owner, { groupId: id, memberIds: [shy] });
    expect(await notice(id, 1, shy)).toMatchObject({ requesterId: owner, createdAt: waiting?.createdAt });
  });

  describe('denials (nothing written)', () => {
    it('refuses users who are already members, never changing their role', async () => {
      const { id, owner, bob, others } = await setup(1);
      const manager = others[0] as string;
      await makeManagers(id, [manager]);
      const carol = uniqueUserId('carol');
      const users = [owner, bob, manager, carol];
      const before = await snapshot(id, users);
      for (const [caller, memberIds] of [
        [manager, [carol, owner]],
        [bob, [bob]],
        [owner, [owner]],
        [owner, [carol, manager]],
      ] as const) {
        expectDenied(await api.add(caller, { groupId: id, memberIds }), 400, EXISTS);
      }
      await expectUnchanged(id, users, before);
      expect((await memberItem(id, owner))?.role).toBe(0);
      expect((await memberItem(id, manager))?.role).toBe(2);
    });

    it('refuses a caller who is not a member with 403', async () => {
      const { id, owner } = await setup();
      const [stranger, carol] = [uniqueUserId('stranger'), uniqueUserId('carol')];
      const before = await snapshot(id, [owner, stranger, carol]);
      expectDenied(await api.add(stranger, { groupId: id, memberIds: [carol] }), 403, {
        code: 403,
        message: 'Current user is not group member.',
      });
      await expectUnchanged(id, [owner, stranger, carol], before);
    });

    it('answers 404 for unknown, impossible and dismissed groups', async () => {
      const { id, owner } = await setup();
      await dismiss(id);
      const carol = uniqueUserId('carol');
      const before = await snapshot(id, [owner, carol]);
      for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
        expectDenied(await api.add(owner, { groupId, memberIds: [carol] }), 404, UNKNOWN);
      }
      await expectUnchanged(id, [owner, carol], before);
    });

    it('refuses to pass the group\'s maxMemberCount', async () => {
      const { id, owner } = await setup();
      await patch(keys.group(id), { maxMemberCount: 3 });
      const [carol, dave] = [uniqueUserId('carol'), uniqueUserId('dave')];
      const before = await snapshot(id, [carol, dave]);
      expectDenied(await api.add(owner, { groupId: id, memberIds: [carol, dave] }), 400, full(3));
      await expectUnchanged(id, [carol, dave], before);
      // One seat is still free.
      expect((await api.add(owner, { groupId: id, memberIds: [carol] })).body.code).toBe(200);
    });

    it('answers code 1000 naming a user already in the maximum number of groups', async () => {
      const { id, owner } = await setup();
      const [carol, busy] = [uniqueUserId('carol'), uniqueUserId('busy')];
      await setGroupCount(busy, 500);
      const before = await snapshot(id, [carol, busy]);
      expectDenied(await api.add(owner, { groupId: id, memberIds: [carol, busy] }), 200, {
        code: 1000,
        message: "memberIds[1]: user's group count is out of max user group count limit (500).",
      });
      await expectUnchanged(id, [carol, busy], before);
    });

    it.each([
      [{ memberIds: ['x'] }, 'groupId: required'],
      [{ groupId: '', memberIds: ['x'] }, 'groupId: expected a non-empty group id'],
      [{ groupId: 'abc' }, 'memberIds: required'],
      [{ groupId: 'abc', memberIds: [] }, 'memberIds: expected at least one user id'],
      [{ groupId: 'abc', memberIds: ['x', null] }, 'memberIds[1]: required'],
      [{ groupId: 'abc', memberIds: 'x' }, 'memberIds: expected an array of user ids'],
      [{ groupId: 'abc', memberIds: Array.from({ length: 101 }, (_, i) => `u${i}`) }, 'memberIds: expected at most 100 user ids'],
    ])('rejects %j with a 400 naming the field', async (body, message) => {
      expectDenied(await api.add(uniqueUserId('owner'), body), 400, { code: 400, message });
    });
  });

  it('admits 100 users at once in several transactions, with exact counts', async () => {
    const { id, owner } = await setup();
    const users = Array.from({ length: 100 }, (_, i) => `${owner}-n${String(i).padStart(3, '0')}`);
    await putExit(id, users[99] as string, Date.now() - 1000);
    const reply = await api.add(owner, { groupId: id, memberIds: users });
    expect(reply.body.code).toBe(200);
    expect((reply.body.result as unknown[]).length).toBe(100);
    expect(await groupItem(id)).toMatchObject({ memberCount: 102 });
    expect((await query(keys.group(id).pk, 'MEMBER#')).length).toBe(102);
    expect((await profileItem(users[57] as string))?.groupCount).toBe(1);
    expect(await exitsOf(id, users[99] as string)).toEqual([]);
    const joined = (await eventsFor(id)).filter((e) => e.detailType === 'MembersJoined');
    expect(joined.length).toBeGreaterThan(1);
    expect(joined.flatMap((e) => e.detail.memberIds as string[])).toEqual(users);
  });
});

describe('POST /group/join', () => {
  it('admits the caller: status 1, exact counts, MembersJoined with the caller as operator', async () => {
    const { id } = await setup();
    const carol = uniqueUserId('carol');
    const reply = await api.join(carol, { groupId: id });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 200, result: { status: 1 } });
    expect((await memberItem(id, carol))?.role).toBe(1);
    expect((await groupItem(id))?.memberCount).toBe(3);
    expect((await profileItem(carol))?.groupCount).toBe(1);
    expect((await lastEvents(id, 1))[0]).toMatchObject({
      detailType: 'MembersJoined',
      detail: { groupId: id, operatorId: carol, memberIds: [carol] },
    });
  });

  it('asks the owner and managers when certification is on: status 2, a type-2 notice, GroupInvited', async () => {
    const { id, owner, others } = await setup(1);
    const manager = others[0] as string;
    await makeManagers(id, [manager]);
    await certify(id);
    const carol = uniqueUserId('carol');
    const reply = await api.join(carol, { groupId: id });
    expect(reply.body).toEqual({ code: 200, result: { status: 2 } });
    expect(await memberItem(id, carol)).toBeUndefined();
    expect((await groupItem(id))?.memberCount).toBe(3);
    expect(await notice(id, 2, carol)).toMatchObject({ status: 2, requesterId: carol, receiverId: carol, viewerIds: [owner, manager] });
    expect((await lastEvents(id, 1))[0]).toMatchObject({
      detailType: 'GroupInvited',
      detail: { requesterId: carol, receiverIds: [carol], recipientIds: [owner, manager], noticeType: 2, status: 2 },
    });

    // Asking again updates the same request.
    await api.join(carol, { groupId: id });
    expect(await noticesOf(id)).toHaveLength(1);
  });

  it('removes the caller\'s exit records and expires their waiting invitation', async () => {
    const { id, owner } = await setup();
    const carol = uniqueUserId('carol');
    await askFirst(carol);
    await api.add(owner, { groupId: id, memberIds: [carol] });
    await putExit(id, carol, Date.now() - 1000);
    expect((await api.join(carol, { groupId: id })).body.result).toEqual({ status: 1 });
    expect(await exitsOf(id, carol)).toEqual([]);
    expect((await notice(id, 1, carol))?.status).toBe(3);
  });

  describe('denials (nothing written)', () => {
    it('refuses members, the owner included, never changing their role', async () => {
      const { id, owner, bob } = await setup();
      const before = await snapshot(id, [owner, bob]);
      expectDenied(await api.join(owner, { groupId: id }), 400, EXISTS);
      expectDenied(await api.join(bob, { groupId: id }), 400, EXISTS);
      await certify(id);
      expectDenied(await api.join(bob, { groupId: id }), 400, EXISTS);
      expect((await snapshot(id, [owner, bob])).events).toEqual(before.events);
      expect((await memberItem(id, owner))?.role).toBe(0);
      expect(await noticesOf(id)).toEqual([]);
    });

    it('answers 404 for unknown, impossible and dismissed groups', async () => {
      const { id } = await setup();
      await dismiss(id);
      const carol = uniqueUserId('carol');
      const before = await snapshot(id, [carol]);
      for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) expectDenied(await api.join(carol, { groupId }), 404, UNKNOWN);
      await expectUnchanged(id, [carol], before);
    });

    it('refuses a full group', async () => {
      const { id } = await setup();
      await patch(keys.group(id), { maxMemberCount: 2 });
      const carol = uniqueUserId('carol');
      const before = await snapshot(id, [carol]);
      expectDenied(await api.join(carol, { groupId: id }), 400, full(2));
      await expectUnchanged(id, [carol], before);
    });

    it('answers code 1000 when the caller is in the maximum number of groups', async () => {
      const { id } = await setup();
      const carol = uniqueUserId('carol');
      await setGroupCount(carol, 500);
      const before = await snapshot(id, [carol]);
      expectDenied(await api.join(carol, { groupId: id }), 200, {
        code: 1000,
        message: "Current user's group count is out of max user group count limit (500).",
      });
      await expectUnchanged(id, [carol], before);
    });

    it.each([
      [{}, 'groupId: required'],
      [{ groupId: null }, 'groupId: required'],
      [{ groupId: '' }, 'groupId: expected a non-empty group id'],
    ])('rejects %j with a 400 naming the field', async (body, message) => {
      expectDenied(await api.join(uniqueUserId('carol'), body), 400, { code: 400, message });
    });
  });

  describe('under concurrency', () => {
    it('fills 10 free seats with exactly 10 of 50 parallel joins', async () => {
      const { id } = await setup();
      await patch(keys.group(id), { maxMemberCount: 12 });
      const users = Array.from({ length: 50 }, () => uniqueUserId('j'));
      const replies = await Promise.all(users.map((u) => api.join(u, { groupId: id })));
      const won = replies.filter((r) => r.body.code === 200);
      expect(won).toHaveLength(10);
      for (const r of replies.filter((r) => r.body.code !== 200)) expectDenied(r, 400, full(12));
      expect((await groupItem(id))?.memberCount).toBe(12);
      expect(await query(keys.group(id).pk, 'MEMBER#')).toHaveLength(12);
      const joined = (await eventsFor(id)).filter((e) => e.detailType === 'MembersJoined');
      expect(joined).toHaveLength(10);
      const counts = await Promise.all(users.map(async (u) => (await profileItem(u))?.groupCount ?? 0));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(10);
    });

    it('keeps one membership when the same user is added and joins at once', async () => {
      for (let round = 0; round < 3; round++) {
        const { id, owner } = await setup();
        const carol = uniqueUserId('carol');
        const replies = await Promise.all([api.add(owner, { groupId: id, memberIds: [carol] }), api.join(carol, { groupId: id })]);
        const codes = replies.map((r) => r.status);
        expect(codes.filter((c) => c === 200)).toHaveLength(1);
        expect(codes.filter((c) => c === 400)).toHaveLength(1);
        expect((await groupItem(id))?.memberCount).toBe(3);
        expect((await profileItem(carol))?.groupCount).toBe(1);
        expect((await memberItem(id, carol))?.role).toBe(1);
      }
    });
  });
});

describe('POST /group/agree', () => {
  /** A group whose owner invited `shy` (who asked to be asked). */
  const invited = async (inviter?: 'bob') => {
    const g = await setup();
    const shy = uniqueUserId('shy');
    await askFirst(shy);
    const reply = await api.add(inviter === 'bob' ? g.bob : g.owner, { groupId: g.id, memberIds: [shy] });
    expect(reply.body.result).toEqual([{ id: shy, status: 3 }]);
    return { ...g, shy };
  };

  /** A certified group with a manager, and carol's waiting join request. */
  const requested = async () => {
    const g = await setup(1);
    const manager = g.others[0] as string;
    await makeManagers(g.id, [manager]);
    await certify(g.id);
    const carol = uniqueUserId('carol');
    expect((await api.join(carol, { groupId: g.id })).body.result).toEqual({ status: 2 });
    return { ...g, manager, carol };
  };

  it('admits an invitee who agrees, naming the inviter as operator, and removes their exit records', async () => {
    const { id, owner, shy } = await invited();
    await putExit(id, shy, Date.now() - 1000);
    const reply = await api.agree(shy, { groupId: id, receiverId: shy, status: 1 });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 200 });

    expect((await memberItem(id, shy))?.role).toBe(1);
    expect((await groupItem(id))?.memberCount).toBe(3);
    expect((await profileItem(shy))?.groupCount).toBe(1);
    expect(await exitsOf(id, shy)).toEqual([]);
    const decided = await notice(id, 1, shy);
    expect(decided?.status).toBe(1);
    expect(decided?.expiresAt).toBeGreaterThan(nowS() + 30 * DAY_S - 60);
    const events = await lastEvents(id, 2);
    expect(events.map((e) => e.detailType)).toEqual(['InvitationAnswered', 'MembersJoined']);
    expect(events[0]?.detail).toMatchObject({ operatorId: shy, receiverId: shy, noticeType: 1, status: 1 });
    expect(events[1]?.detail).toMatchObject({ operatorId: owner, memberIds: [shy] });
  });

  it('records an ignored invitation and admits nobody', async () => {
    const { id, shy } = await invited();
    expect((await api.agree(shy, { groupId: id, receiverId: shy, status: 0 })).body).toEqual({ code: 200 });
    expect(await memberItem(id, shy)).toBeUndefined();
    expect((await notice(id, 1, shy))?.status).toBe(0);
    expect((await lastEvents(id, 1))[0]).toMatchObject({
      detailType: 'InvitationAnswered',
      detail: { operatorId: shy, receiverId: shy, noticeType: 1, status: 0 },
    });
  });

  it.each([
    ['"1"', '1', 1],
    ['"0"', '0', 0],
  ])('accepts status as the string %s', async (_, status, stored) => {
    const { id, shy } = await invited();
    expect((await api.agree(shy, { groupId: id, receiverId: shy, status })).body).toEqual({ code: 200 });
    expect((await notice(id, 1, shy))?.status).toBe(stored);
  });

  it.each([
    [{ receiverId: 'x', status: 1 }, 'groupId: required'],
    [{ groupId: 'abc', status: 1 }, 'receiverId: required'],
    [{ groupId: 'abc', receiverId: '', status: 1 }, 'receiverId: expected a non-empty user id'],
    [{ groupId: 'abc', receiverId: 'x' }, 'status: required'],
    [{ groupId: 'abc', receiverId: 'x', status: 2 }, 'status: expected 0 or 1'],
    [{ groupId: 'abc', receiverId: 'x', status: 'yes' }, 'status: expected 0 or 1'],
    [{ groupId: 'abc', receiverId: 'x', status: true }, 'status: expected 0 or 1'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.agree(uniqueUserId('u'), body), 400, { code: 400, message });
  });

  it('sends an invitation by a plain member into a certified group on to the managers once the invitee agrees', async () => {
    const { id, owner, bob, others } = await setup(1);
    const manager = others[0] as string;
    await makeManagers(id, [manager]);
    const shy = uniqueUserId('shy');
    await askFirst(shy);
    await api.add(bob, { groupId: id, memberIds: [shy] });
    await certify(id);

    expect((await api.agree(shy, { groupId: id, receiverId: shy, status: 1 })).body).toEqual({ code: 200 });
    expect(await memberItem(id, shy)).toBeUndefined();
    expect((await notice(id, 1, shy))?.status).toBe(1);
    expect(await notice(id, 2, shy)).toMatchObject({ status: 2, requesterId: bob, receiverId: shy, viewerIds: [owner, manager] });
    const events = await lastEvents(id, 2);
    expect(events.map((e) => e.detailType)).toEqual(['InvitationAnswered', 'GroupInvited']);
    expect(events[1]?.detail).toMatchObject({ requesterId: bob, receiverIds: [shy], recipientIds: [owner, manager], noticeType: 2 });

    // The manager approves: shy joins, bob (the original inviter) is the operator.
    expect((await api.agree(manager, { groupId: id, receiverId: shy, status: 1 })).body).toEqual({ code: 200 });
    expect((await memberItem(id, shy))?.role).toBe(1);
    expect((await lastEvents(id, 1))[0]?.detail).toMatchObject({ operatorId: bob, memberIds: [shy] });
  });

  it('admits at once an invitee of the owner into a certified group', async () => {
    const { id, shy } = await invited();
    await certify(id);
    expect((await api.agree(shy, { groupId: id, receiverId: shy, status: 1 })).body).toEqual({ code: 200 });
    expect((await memberItem(id, shy))?.role).toBe(1);
    expect(await notice(id, 2, shy)).toBeUndefined();
  });

  it('lets a manager (or the owner) approve a join request; the requester is the operator', async () => {
    const { id, manager, carol } = await requested();
    expect((await api.agree(manager, { groupId: id, receiverId: carol, status: 1 })).body).toEqual({ code: 200 });
    expect((await memberItem(id, carol))?.role).toBe(1);
    expect((await notice(id, 2, carol))?.status).toBe(1);
    const events = await lastEvents(id, 2);
    expect(events[0]?.detail).toMatchObject({ operatorId: manager, receiverId: carol, noticeType: 2, status: 1 });
    expect(events[1]?.detail).toMatchObject({ operatorId: carol, memberIds: [carol] });

    const second = await requested();
    expect((await api.agree(second.owner, { groupId: second.id, receiverId: second.carol, status: 1 })).body).toEqual({ code: 200 });
    expect((await memberItem(second.id, second.carol))?.role).toBe(1);
  });

  it('lets a manager ignore a join request', async () => {
    const { id, manager, carol } = await requested();
    expect((await api.agree(manager, { groupId: id, receiverId: carol, status: 0 })).body).toEqual({ code: 200 });
    expect(await memberItem(id, carol)).toBeUndefined();
    expect((await notice(id, 2, carol))?.status).toBe(0);
  });

  it('expires the receiver\'s other waiting notice when admitting them', async () => {
    const { id, owner, others } = await setup(0);
    expect(others).toEqual([]);
    await certify(id);
    const shy = uniqueUserId('shy');
    await askFirst(shy);
    expect((await api.join(shy, { groupId: id })).body.result).toEqual({ status: 2 });
    await api.add(owner, { groupId: id, memberIds: [shy] });
    expect((await api.agree(shy, { groupId: id, receiverId: shy, status: 1 })).body).toEqual({ code: 200 });
    expect((await notice(id, 1, shy))?.status).toBe(1);
    expect((await notice(id, 2, shy))?.status).toBe(3);
  });

  describe('denials (nothing admitted, nothing written)', () => {
    it('refuses anyone but the owner or a manager the request was sent to with 403', async () => {
      const { id, owner, bob, manager, carol } = await requested();
      const late = uniqueUserId('late');
      await api.add(owner, { groupId: id, memberIds: [late] });
      await makeManagers(id, [manager, late]); // a manager appointed after the request was made
      const users = [owner, bob, manager, carol, late];
      const before = await snapshot(id, users);
      for (const caller of [bob, uniqueUserId('stranger'), late]) {
        expectDenied(await api.agree(caller, { groupId: id, receiverId: carol, status: 1 }), 403, NOT_ADDRESSED);
      }
      // A manager the request was sent to, no longer a manager.
      await makeManagers(id, [late]);
      await patch(keys.member(id, manager), { role: 1 });
      const demoted = await snapshot(id, users);
      expectDenied(await api.agree(manager, { groupId: id, receiverId: carol, status: 0 }), 403, NOT_ADDRESSED);
      await expectUnchanged(id, users, demoted);
      expect(before.events).toEqual(demoted.events);
      expect((await notice(id, 2, carol))?.status).toBe(2);
    });

    it('answers code 20003 when there is no such notice', async () => {
      const { id, owner, bob } = await setup();
      const before = await snapshot(id, [owner, bob]);
      expectDenied(await api.agree(bob, { groupId: id, receiverId: bob, status: 1 }), 200, NOTICE_NOT_FOUND);
      expectDenied(await api.agree(owner, { groupId: id, receiverId: uniqueUserId('nobody'), status: 1 }), 200, NOTICE_NOT_FOUND);
      await expectUnchanged(id, [owner, bob], before);
    });

    it('answers code 20003 for a notice past its expiry, whether or not TTL deleted it', async () => {
      const { id, owner, shy } = await invited();
      await patch(keys.notice(id, 1, shy), { expiresAt: nowS() - 1 });
      const before = await snapshot(id, [owner, shy]);
      expectDenied(await api.agree(shy, { groupId: id, receiverId: shy, status: 1 }), 200, NOTICE_NOT_FOUND);
      await expectUnchanged(id, [owner, shy], before);
      expect(await memberItem(id, shy)).toBeUndefined();
    });

    it('refuses a decided or expired notice with 403', async () => {
      const { id, owner, shy } = await invited();
      await api.agree(shy, { groupId: id, receiverId: shy, status: 0 });
      const before = await snapshot(id, [owner, shy]);
      expectDenied(await api.agree(shy, { groupId: id, receiverId: shy, status: 1 }), 403, {
        code: 403,
        message: 'This notice has already been answered.',
      });
      await patch(keys.notice(id, 1, shy), { status: 3 });
      const expired = await snapshot(id, [owner, shy]);
      expectDenied(await api.agree(shy, { groupId: id, receiverId: shy, status: 1 }), 403, { code: 403, message: 'This notice has expired.' });
      await expectUnchanged(id, [owner, shy], expired);
      expect(expired.events).toEqual(before.events);
      expect(await memberItem(id, shy)).toBeUndefined();
    });

    it('answers 404 for unknown, impossible and dismissed groups', async () => {
      const { id, owner, shy } = await invited();
      await dismiss(id);
      const before = await snapshot(id, [owner, shy]);
      for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
        expectDenied(await api.agree(shy, { groupId, receiverId: shy, status: 1 }), 404, UNKNOWN);
      }
      await expectUnchanged(id, [owner, shy], before);
    });

    it('refuses a receiver who is a member by now, leaving the notice waiting', async () => {
      const { id, owner, shy } = await invited();
      await patch(keys.profile(shy), { groupVerify: 1 });
      expect((await api.join(shy, { groupId: id })).body.result).toEqual({ status: 1 });
      await patch(keys.notice(id, 1, shy), { status: 2 }); // as if it were still waiting
      const before = await snapshot(id, [owner, shy]);
      expectDenied(await api.agree(shy, { groupId: id, receiverId: shy, status: 1 }), 400, EXISTS);
      await expectUnchanged(id, [owner, shy], before);
    });

    it('refuses a full group and a receiver at the group limit', async () => {
      const { id, owner, shy } = await invited();
      await patch(keys.group(id), { maxMemberCount: 2 });
      const before = await snapshot(id, [owner, shy]);
      expectDenied(await api.agree(shy, { groupId: id, receiverId: shy, status: 1 }), 400, full(2));
      await expectUnchanged(id, [owner, shy], before);

      await patch(keys.group(id), { maxMemberCount: 500 });
      await setGroupCount(shy, 500);
      const limited = await snapshot(id, [owner, shy]);
      expectDenied(await api.agree(shy, { groupId: id, receiverId: shy, status: 1 }), 200, {
        code: 1000,
        message: "Current user's group count is out of max user group count limit (500).",
      });
      await expectUnchanged(id, [owner, shy], limited);

      const r = await requested();
      await setGroupCount(r.carol, 500);
      expectDenied(await api.agree(r.manager, { groupId: r.id, receiverId: r.carol, status: 1 }), 200, {
        code: 1000,
        message: "receiverId: user's group count is out of max user group count limit (500).",
      });
      expect((await notice(r.id, 2, r.carol))?.status).toBe(2);
    });
  });

  it('admits once when two managers approve the same request at the same time', async () => {
    for (let round = 0; round < 3; round++) {
      const { id, owner, manager, carol } = await requested();
      const replies = await Promise.all([
        api.agree(owner, { groupId: id, receiverId: carol, status: 1 }),
        api.agree(manager, { groupId: id, receiverId: carol, status: 1 }),
      ]);
      expect(replies.map((r) => r.body.code).sort()).toEqual([200, 403]);
      expect(replies.find((r) => r.status === 403)?.body).toEqual({ code: 403, message: 'This notice has already been answered.' });
      expect((await groupItem(id))?.memberCount).toBe(4);
      expect((await profileItem(carol))?.groupCount).toBe(1);
      expect((await eventTypes(id)).filter((t) => t === 'MembersJoined')).toHaveLength(1);
      expect((await eventTypes(id)).filter((t) => t === 'InvitationAnswered')).toHaveLength(1);
    }
  });
});

describe('GET /group/notice_info and POST /group/clear_notice', () => {
  it('lists the caller\'s notices in the shape clients parse, with live names', async () => {
    const owner = { sub: uniqueUserId('owner'), name: 'Olivia' };
    const { sub: ownerId } = owner;
    const bob = uniqueUserId('bob');
    const id = await createGroup(owner, [bob], 'Hikers');
    const shy = uniqueUserId('shy');
    await askFirst(shy);
    await api.add(owner, { groupId: id, memberIds: [shy] });

    const [item] = await noticeInfo(shy);
    const stored = await notice(id, 1, shy);
    expect(item).toEqual({
      id: `${id}-1-${shy}`,
      type: 1,
      status: 2,
      timestamp: stored?.timestamp,
      createdTime: stored?.createdAt,
      createdAt: new Date(stored?.createdAt as number).toISOString(),
      requester: { id: ownerId, nickname: 'Olivia' },
      receiver: { id: shy, nickname: '' },
      group: { id, name: 'Hikers' },
    });
    expect(typeof item?.timestamp).toBe('number');

    // Renamed group and nicknames changed since: the list shows the current ones.
    await api.rename(ownerId, { groupId: id, name: 'Climbers' });
    await api.userGroups({ sub: shy, name: 'Shy Sam' });
    await api.userGroups({ sub: ownerId, name: 'Olive' });
    const [renamed] = await noticeInfo(shy);
    expect(renamed).toMatchObject({ group: { id, name: 'Climbers' }, requester: { nickname: 'Olive' }, receiver: { nickname: 'Shy Sam' } });
  });

  it('shows join requests to the owner and managers, newest first, with their status', async () => {
    const { id, owner, others } = await setup(1);
    const manager = others[0] as string;
    await makeManagers(id, [manager]);
    await certify(id);
    const [carol, dave] = [uniqueUserId('carol'), uniqueUserId('dave')];
    await api.join(carol, { groupId: id });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await api.join(dave, { groupId: id });
    for (const viewer of [owner, manager]) {
      const list = await noticeInfo(viewer);
      expect(list.map((n) => [n.receiver.id, n.type, n.status])).toEqual([
        [dave, 2, 2],
        [carol, 2, 2],
      ]);
    }
    await api.agree(manager, { groupId: id, receiverId: carol, status: 1 });
    expect((await noticeInfo(owner)).map((n) => [n.receiver.id, n.status])).toEqual([
      [carol, 1],
      [dave, 2],
    ]);
    expect(await noticeInfo(carol)).toEqual([]);
  });

  it('drops notices past their expiry and shows a dismissed group\'s waiting notices as expired', async () => {
    const { id, owner } = await setup();
    const [shy, gone] = [uniqueUserId('shy'), uniqueUserId('gone')];
    await askFirst(shy);
    await askFirst(gone);
    await api.add(owner, { groupId: id, memberIds: [shy, gone] });
    await patch(keys.notice(id, 1, gone), { expiresAt: nowS() - 1 });
    expect(await noticeInfo(gone)).toEqual([]);
    expect((await noticeInfo(shy)).map((n) => n.status)).toEqual([2]);
    await dismiss(id);
    expect((await noticeInfo(shy)).map((n) => [n.group.id, n.status])).toEqual([[id, 3]]);
  });

  it('answers an empty list for a user without notices', async () => {
    expect(await noticeInfo(uniqueUserId('nobody'))).toEqual([]);
  });

  it('clear_notice empties only the caller\'s list; the notice stays for the other viewers', async () => {
    const { id, owner, others } = await setup(1);
    const manager = others[0] as string;
    await makeManagers(id, [manager]);
    await certify(id);
    const carol = uniqueUserId('carol');
    await api.join(carol, { groupId: id });
    expect(await noticeInfo(manager)).toHaveLength(1);

    const reply = await api.clearNotice(manager);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 200 });
    expect(await noticeInfo(manager)).toEqual([]);
    expect(await noticeInfo(owner)).toHaveLength(1);
    expect(await notice(id, 2, carol)).toMatchObject({ status: 2 });
    // An empty body, or none, is fine; clearing the list does not withdraw the request.
    expect((await api.clearNotice(owner, {})).body).toEqual({ code: 200 });
    expect((await api.clearNotice(uniqueUserId('nobody'))).body).toEqual({ code: 200 });
    expect((await api.agree(manager, { groupId: id, receiverId: carol, status: 1 })).body).toEqual({ code: 200 });
  });
});
