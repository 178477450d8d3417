import { describe, expect, it } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import { api } from '#tests/helpers/endpoints.ts';
import { eventsFor, partitionItems, patch } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { dismiss, groupWith, makeManagers } from './departures-helpers.ts';

interface Exited {
  quitUserId: string;
  quitNickname: string;
  quitPortraitUri: string;
  quitReason: number;
  quitTime: number;
  operatorId: string | null;
  operatorName: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('POST /group/exited_list', () => {
  it('lists every departure newest first, in the shape clients parse (no id, ms numbers, null operator on quit)', async () => {
    const { id, owner, others } = await groupWith(4);
    const [manager, bob, carol, dave] = others as [string, string, string, string];
    await makeManagers(id, manager);
    expect((await api.kick(owner, { groupId: id, memberIds: [bob] })).status).toBe(200);
    await sleep(5);
    expect((await api.kick(manager, { groupId: id, memberIds: [carol] })).status).toBe(200);
    await sleep(5);
    // A later nickname change does not rewrite the snapshot.
    expect((await api.quit({ sub: dave, name: 'Dave at exit' }, { groupId: id })).status).toBe(200);
    await api.userGroups({ sub: dave, name: 'Dave later' });

    for (const caller of [owner, manager]) {
      const reply = await api.exitedList(caller, { groupId: id });
      expect(reply.status).toBe(200);
      expect(reply.body.code).toBe(200);
      const list = reply.body.result as Exited[];
      expect(list.map((e) => e.quitUserId)).toEqual([dave, carol, bob]);
      expect(list[0]).toEqual({
        quitUserId: dave,
        quitNickname: 'Dave at exit',
        quitPortraitUri: `https://img.example/${dave}.png`,
        quitReason: 2,
        quitTime: expect.any(Number),
        operatorId: null,
        operatorName: null,
      });
      expect(list[1]).toEqual({
        quitUserId: carol,
        quitNickname: `Nick ${carol}`,
        quitPortraitUri: `https://img.example/${carol}.png`,
        quitReason: 1,
        quitTime: expect.any(Number),
        operatorId: manager,
        operatorName: `Nick ${manager}`,
      });
      expect(list[2]).toMatchObject({ quitUserId: bob, quitReason: 0, operatorId: owner, operatorName: `Nick ${owner}` });
      expect(list.every((e) => !('id' in e) && Number.isInteger(e.quitTime))).toBe(true);
      expect((list[0] as Exited).quitTime).toBeGreaterThan((list[1] as Exited).quitTime);
      expect((list[1] as Exited).quitTime).toBeGreaterThan((list[2] as Exited).quitTime);
    }
  });

  it('answers an empty list when nobody left, and orders one kick\'s records by user id', async () => {
    const { id, owner, others } = await groupWith(3);
    expect((await api.exitedList(owner, { groupId: id })).body).toEqual({ code: 200, result: [] });
    expect((await api.kick(owner, { groupId: id, memberIds: [...others].reverse() })).status).toBe(200);
    const list = (await api.exitedList(owner, { groupId: id })).body.result as Exited[];
    expect(list.map((e) => e.quitUserId)).toEqual([...others].sort());
  });

  it('answers the reference\'s 400 to plain members and 403 to non-members (never a 500)', async () => {
    const { id, others } = await groupWith(2);
    const plain = await api.exitedList(others[0] as string, { groupId: id });
    expect(plain.status).toBe(400);
    expect(plain.body).toEqual({ code: 400, message: 'Current user is not group manager.' });
    const stranger = await api.exitedList(uniqueUserId('stranger'), { groupId: id });
    expect(stranger.status).toBe(403);
    expect(stranger.body).toEqual({ code: 403, message: 'Current user is not group member.' });
  });

  it('answers 404 for unknown, impossible and dismissed groups, and writes nothing', async () => {
    const { id, owner } = await groupWith(1);
    await dismiss(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      const reply = await api.exitedList(owner, { groupId });
      expect(reply.status, groupId).toBe(404);
      expect(reply.body).toEqual({ code: 404, message: 'Unknown group.' });
    }
    expect((await eventsFor(id)).map((e) => e.detailType)).toEqual(['GroupCreated']);
  });

  it('keeps one record per user: a departure after a re-admission that left the old record replaces it', async () => {
    const { id, owner, others } = await groupWith(2);
    const [bob] = others as [string];
    expect((await api.quit(bob, { groupId: id })).status).toBe(200);
    // Re-admitted without clearing their record (as /join does in the reference), then kicked.
    const now = Date.now();
    await patch(keys.member(id, bob), { groupId: id, userId: bob, role: 1, createdAt: now, updatedAt: now, timestamp: now, kind: 'member' });
    await patch(keys.group(id), { memberCount: 3 });
    await patch(keys.profile(bob), { groupCount: 1 });
    await sleep(5);
    expect((await api.kick(owner, { groupId: id, memberIds: [bob] })).status).toBe(200);
    const list = (await api.exitedList(owner, { groupId: id })).body.result as Exited[];
    expect(list.map((e) => [e.quitUserId, e.quitReason])).toEqual([[bob, 0]]);
    expect(await partitionItems(id, 'EXITED#')).toHaveLength(1);
  });

  it.each([
    [{}, 'groupId: required'],
    [{ groupId: '' }, 'groupId: expected a non-empty group id'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    const reply = await api.exitedList(uniqueUserId('u'), body);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ code: 400, message });
  });

  it("keeps a user's exit records apart from those of a user whose id extends theirs with '#'", async () => {
    const owner = uniqueUserId('owner');
    const alice = uniqueUserId('alice');
    const aliceToo = `${alice}#2`;
    const created = await api.create(owner, { name: 'Hash ids', memberIds: [alice, aliceToo] });
    const id = (created.body.result as { id: string }).id;
    expect((await api.quit(alice, { groupId: id })).status).toBe(200);
    expect((await api.quit(aliceToo, { groupId: id })).status).toBe(200);
    // alice comes back: only her own exit record goes.
    expect((await api.add(owner, { groupId: id, memberIds: [alice] })).body.code).toBe(200);
    const list = (await api.exitedList(owner, { groupId: id })).body.result as Exited[];
    expect(list.map((e) => e.quitUserId)).toEqual([aliceToo]);
  });
});
