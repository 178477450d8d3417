import { describe, expect, it } from 'vitest';
import { store } from '#lib/app.ts';
import { keys } from '#lib/store/keys.ts';
import { ioMeter } from '#tests/bench/io-meter.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { getItem, patch, profileItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/**
 * Single-group writes take at most 2 sequential DynamoDB round trips: what the decision needs, read
 * in parallel, then the transaction. (`npm run bench` measures every endpoint; these pin the ones
 * that once took more.) The caller's profile projection runs alongside, never before.
 */
describe('round trips', () => {
  const counter = ioMeter(store.client);
  const measure = async (run: () => Promise<{ body: { code?: number } }>) => {
    counter.start();
    const reply = await run();
    const { rounds, commands } = counter.stop();
    expect(reply.body.code, JSON.stringify(reply.body)).toBe(200);
    return { rounds, commands };
  };

  it('join: 2 round trips, admitted or asking', async () => {
    const id = await createGroup(uniqueUserId('owner'), [uniqueUserId('bob')]);
    const admitted = await measure(() => api.join(uniqueUserId('carol'), { groupId: id }));
    expect(admitted.rounds, JSON.stringify(admitted.commands)).toBe(2);
    expect(admitted.commands.at(-1)).toEqual(['TransactWriteItemsCommand']);

    await patch(keys.group(id), { certiStatus: 0 });
    const asking = await measure(() => api.join(uniqueUserId('dave'), { groupId: id }));
    expect(asking.rounds, JSON.stringify(asking.commands)).toBe(2);
  });

  it('agree: 2 round trips for an invitee and for a manager', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob')]);
    const shy = uniqueUserId('shy');
    await patch(keys.profile(shy), { userId: shy, kind: 'profile', groupVerify: 0 });
    await api.add(owner, { groupId: id, memberIds: [shy] });
    const invitee = await measure(() => api.agree(shy, { groupId: id, receiverId: shy, status: 1 }));
    expect(invitee.rounds, JSON.stringify(invitee.commands)).toBe(2);

    await patch(keys.group(id), { certiStatus: 0 });
    const carol = uniqueUserId('carol');
    await api.join(carol, { groupId: id });
    const manager = await measure(() => api.agree(owner, { groupId: id, receiverId: carol, status: 1 }));
    expect(manager.rounds, JSON.stringify(manager.commands)).toBe(2);
  });

  it('add and kick: 2 round trips (the targets read with the group)', async () => {
    const owner = uniqueUserId('owner');
    const [bob, carol] = [uniqueUserId('bob'), uniqueUserId('carol')];
    const id = await createGroup(owner, [bob]);
    const added = await measure(() => api.add(owner, { groupId: id, memberIds: [carol] }));
    expect(added.rounds, JSON.stringify(added.commands)).toBe(2);
    const kicked = await measure(() => api.kick(owner, { groupId: id, memberIds: [carol] }));
    expect(kicked.rounds, JSON.stringify(kicked.commands)).toBe(2);
    expect(await getItem(keys.exited(id, carol))).toBeDefined();
    // Back again: the admission deletes the exit record by key, without reading it.
    const again = await measure(() => api.add(owner, { groupId: id, memberIds: [carol] }));
    expect(again.rounds, JSON.stringify(again.commands)).toBe(2);
    expect(await getItem(keys.exited(id, carol))).toBeUndefined();
  });

  it('set_member_info: 2 round trips', async () => {
    const owner = uniqueUserId('owner');
    const bob = uniqueUserId('bob');
    const id = await createGroup(owner, [bob]);
    const set = await measure(() => api.setMemberInfo(owner, { groupId: id, memberId: bob, region: '86' }));
    expect(set.rounds, JSON.stringify(set.commands)).toBe(2);
  });

  it('copy_group: 4 round trips (the member list only once the caller is known to be a member; profiles read once)', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob'), uniqueUserId('carol')]);
    await patch(keys.group(id), { createdAt: Date.now() - 8 * 24 * 3600 * 1000 }); // past its protection period
    const copied = await measure(() => api.copyGroup(owner, { groupId: id, name: 'Copy' }));
    expect(copied.rounds, JSON.stringify(copied.commands)).toBe(4);
  });

  it("a caller's first request with new claims: no extra round trip, and the request already uses them", async () => {
    const owner = uniqueUserId('owner');
    const bob = uniqueUserId('bob');
    const id = await createGroup(owner, [bob]);
    await api.get({ sub: bob, name: 'Bob Before' }, id);
    expect((await profileItem(bob))?.nickname).toBe('Bob Before');

    const quit = await measure(() => api.quit({ sub: bob, name: 'Bob After' }, { groupId: id }));
    // The projection (UpdateItem) is sent with the first reads; on a busy machine it can even still
    // be in flight when the transaction starts (one round). Never a round of its own before them.
    expect(quit.rounds, JSON.stringify(quit.commands)).toBeLessThanOrEqual(2);
    expect(quit.commands[0]).toEqual(expect.arrayContaining(['UpdateItemCommand', 'GetItemCommand']));
    expect((await profileItem(bob))?.nickname).toBe('Bob After');
    expect((await getItem(keys.exited(id, bob)))?.quitNickname).toBe('Bob After');
  });
});
