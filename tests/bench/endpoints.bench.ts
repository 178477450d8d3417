import { bench, describe } from 'vitest';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/**
 * Latency of the implemented endpoints, handler + DynamoDB Local, on this machine. DynamoDB Local
 * is not a performance model of DynamoDB: read these as round trips and work done, not AWS
 * latencies.
 */

const members = (owner: string, n: number) => Array.from({ length: n }, (_, i) => `${owner}-m${String(i).padStart(3, '0')}`);

const owner = uniqueUserId('bench-owner');
const reader = uniqueUserId('bench-reader');
const small = await createGroup(owner, [reader, ...members(owner, 8)], 'Bench small');
const big = await createGroup(owner, [reader, ...members(owner, 498)], 'Bench big');
const busy = uniqueUserId('bench-busy');
await Promise.all(Array.from({ length: 50 }, () => createGroup(uniqueUserId('o'), [busy])));

const ok = (reply: { body: { code?: number } }) => {
  if (reply.body.code !== 200) throw new Error(`unexpected answer ${JSON.stringify(reply.body)}`);
};

describe('create', () => {
  bench('POST /group/create, 10 members (one transaction)', async () => {
    const o = uniqueUserId('o');
    ok(await api.create(o, { name: 'Bench', memberIds: members(o, 9) }));
  }, { iterations: 30, time: 0 });

  bench('POST /group/create, 500 members (11 chunked transactions)', async () => {
    const o = uniqueUserId('o');
    ok(await api.create(o, { name: 'Bench', memberIds: members(o, 499) }));
  }, { iterations: 5, time: 0 });
});

describe('reads', () => {
  bench('GET /group/{id}', async () => {
    ok(await api.get(reader, small));
  }, { iterations: 200, time: 0 });

  bench('GET /group/{id}/members, 10 members', async () => {
    ok(await api.members(reader, small));
  }, { iterations: 100, time: 0 });

  bench('GET /group/{id}/members, 500 members', async () => {
    ok(await api.members(reader, big));
  }, { iterations: 20, time: 0 });

  bench('GET /user/groups, 50 groups', async () => {
    ok(await api.userGroups(busy));
  }, { iterations: 50, time: 0 });
});

describe('writes', () => {
  let n = 0;
  bench('POST /group/rename', async () => {
    ok(await api.rename(owner, { groupId: small, name: `Renamed ${n++}` }));
  }, { iterations: 100, time: 0 });
});
