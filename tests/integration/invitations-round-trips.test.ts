import { describe, expect, it } from 'vitest';
import { store } from '#lib/app.ts';
import { keys } from '#lib/store/keys.ts';
import { roundTripCounter } from '#tests/bench/round-trips.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { patch } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/**
 * join and agree: at most 2 sequential DynamoDB round trips (the group, the notices and the exit
 * records in parallel; then the transaction). The callers carry no profile claims, so no projection
 * write runs before them.
 */
describe('round trips of join and agree', () => {
  const counter = roundTripCounter(store.client);
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
});
