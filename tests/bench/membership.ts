import { randomBytes } from 'node:crypto';
import { ensureTable, localClient, startDynamoDbLocal } from '#infra/local/dynamodb.ts';

/**
 * Membership on DynamoDB Local with MAX_GROUP_MEMBERS=3000: request latency and the sequential
 * DynamoDB round trips each request makes (requests in flight together count as one round), the
 * transactions of a 500-member kick, and a 3000-member dismissal: the request, then the cleanup
 * consumer that releases the members. DynamoDB Local is not a performance model of DynamoDB:
 * the round trips and transactions are what carry over to AWS.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';
const dynamo = await startDynamoDbLocal();
try {
  const tableName = `bench-members-${randomBytes(3).toString('hex')}`;
  const ddb = localClient(dynamo.endpoint);
  await ensureTable(ddb, tableName);
  ddb.destroy();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TABLE_NAME: tableName,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    MAX_GROUP_MEMBERS: '3000',
    MAX_USER_GROUPS: '5000',
  });
  const { store } = await import('#lib/app.ts');
  const { callRoute } = await import('#tests/helpers/lambda.ts');
  const { roundTripCounter } = await import('./round-trips.ts');
  const { outboxEnvelopes } = await import('#tests/helpers/outbox.ts');
  const { patch } = await import('#tests/helpers/db.ts');
  const { keys } = await import('#lib/store/keys.ts');
  const counter = roundTripCounter(store.client);

  const uid = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
  const call = async (method: 'GET' | 'POST', path: string, as: string, body?: unknown) => {
    const reply = await callRoute<{ code?: number; result?: unknown; message?: string }>(method, path, { as, ...(body === undefined ? {} : { body }) });
    if (reply.body.code !== 200) throw new Error(`${path} failed: ${JSON.stringify(reply.body)}`);
    return reply.body.result;
  };
  const create = async (owner: string, memberIds: string[]) => ((await call('POST', '/group/create', owner, { name: 'Bench', memberIds })) as { id: string }).id;
  const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
  const ms = (n: number) => `${n.toFixed(1)} ms`;

  /** Runs `fn` `n` times: latency p50/p95 and the round trips of each run (they must all agree). */
  const measure = async (label: string, n: number, fn: (i: number) => Promise<void>) => {
    const times: number[] = [];
    const rounds = new Set<number>();
    let example: string[][] = [];
    for (let i = 0; i < n; i++) {
      counter.start();
      const started = performance.now();
      await fn(i);
      times.push(performance.now() - started);
      const counted = counter.stop();
      rounds.add(counted.rounds);
      example = counted.commands;
    }
    console.log(
      `  ${label.padEnd(44)} p50 ${ms(percentile(times, 50)).padStart(9)}  p95 ${ms(percentile(times, 95)).padStart(9)}  round trips ${[...rounds].join('/')}  (${example.map((r) => r.join('+')).join(' → ')})`,
    );
  };

  console.log('\nmembership on DynamoDB Local (MAX_GROUP_MEMBERS=3000)');
  const owner = uid('owner');
  const open = await create(owner, [uid('m')]);
  await measure('POST /group/join (admitted)', 50, async () => {
    await call('POST', '/group/join', uid('joiner'), { groupId: open });
  });

  const gated = await create(owner, [uid('m')]);
  await patch(keys.group(gated), { certiStatus: 0 });
  const askers = Array.from({ length: 30 }, () => uid('asker'));
  await measure('POST /group/join (approval requested)', 30, async (i) => {
    await call('POST', '/group/join', askers[i] as string, { groupId: gated });
  });
  await measure('POST /group/agree (owner approves)', 30, async (i) => {
    await call('POST', '/group/agree', owner, { groupId: gated, receiverId: askers[i], status: 1 });
  });
  await measure('POST /group/quit (plain member)', 30, async (i) => {
    await call('POST', '/group/quit', askers[i] as string, { groupId: gated });
  });
  const pair = await Promise.all(Array.from({ length: 20 }, async () => {
    const o = uid('o');
    const target = uid('t');
    return { o, target, id: await create(o, [target]) };
  }));
  await measure('POST /group/transfer', 20, async (i) => {
    const { o, target, id } = pair[i] as { o: string; target: string; id: string };
    await call('POST', '/group/transfer', o, { groupId: id, userId: target });
  });

  const bigOwner = uid('big');
  const everyone = Array.from({ length: 2999 }, (_, i) => `${bigOwner}-${String(i).padStart(4, '0')}`);
  let started = performance.now();
  const big = await create(bigOwner, everyone);
  console.log(`  ${'create a 3000-member group'.padEnd(44)} ${ms(performance.now() - started)}`);

  counter.start();
  started = performance.now();
  await call('POST', '/group/kick', bigOwner, { groupId: big, memberIds: everyone.slice(0, 500) });
  const kickTime = performance.now() - started;
  const kick = counter.stop();
  const kickTx = kick.commands.flat().filter((c) => c === 'TransactWriteItemsCommand').length;
  console.log(`  ${'POST /group/kick, 500 of 3000'.padEnd(44)} ${ms(kickTime)}  ${kickTx} transactions (⌈500/33⌉ = ${Math.ceil(500 / 33)}) in ${kick.rounds} round trips`);

  counter.start();
  started = performance.now();
  await call('POST', '/group/dismiss', bigOwner, { groupId: big });
  const dismissTime = performance.now() - started;
  const dismiss = counter.stop();
  const dismissTx = dismiss.commands.flat().filter((c) => c === 'TransactWriteItemsCommand').length;
  console.log(`  ${'POST /group/dismiss, 2500 members left'.padEnd(44)} ${ms(dismissTime)}  ${dismissTx} transaction, ${dismiss.rounds} round trips`);

  const { handler: cleanup } = (await import('#functions/group-cleanup.ts')) as { handler: (event: unknown) => Promise<void> };
  const dismissed = (await outboxEnvelopes(big)).find((e) => e['detail-type'] === 'GroupDismissed');
  counter.start();
  started = performance.now();
  await cleanup(dismissed);
  const cleanupTime = performance.now() - started;
  const cleaned = counter.stop();
  const cleanupTx = cleaned.commands.flat().filter((c) => c === 'TransactWriteItemsCommand').length;
  console.log(`  ${'group-cleanup consumer, 2500 members'.padEnd(44)} ${ms(cleanupTime)}  ${cleanupTx} transactions in ${cleaned.rounds} round trips (until the consumer finished)`);
  const left = (await callRoute('GET', `/group/${big}/members`, { as: bigOwner })).status;
  console.log(`  after cleanup: GET members of the dismissed group answers ${left}`);
} finally {
  await dynamo.stop();
}
