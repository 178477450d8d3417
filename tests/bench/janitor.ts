import { randomBytes } from 'node:crypto';
import { startBenchStack } from './stack.ts';
import { recordResults } from './results.ts';

/**
 * The janitor on DynamoDB Local with MAX_GROUP_MEMBERS=3000: a 3000-member creation (all seated;
 * then 2700 seated and 300 invited) whose request dies just before its final transaction (every
 * member and notice chunk written, the group still `creating`), then the janitor pass that undoes
 * it: its time and transactions. Also the time of a normal 3000-member creation and how many of its
 * transactions DynamoDB Local cancelled for a conflict (the chunks all check the group item).
 *
 *   node --import tsx tests/bench/janitor.ts
 */

const stack = await startBenchStack('janitor', { MAX_GROUP_MEMBERS: '3000', MAX_USER_GROUPS: '5000' }, { stream: false });
const { tableName } = stack;
try {
  const { store, deps } = await import('#lib/app.ts');
  const { createGroup } = await import('#lib/domain/groups.ts');
  const { runJanitor, CREATION_STALE_MS } = await import('#lib/domain/janitor.ts');
  const { createGroupRepository } = await import('#lib/store/groups.ts');
  const { batchGet, queryPrefix } = await import('#lib/store/batch.ts');
  const { keys } = await import('#lib/store/keys.ts');
  const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ioMeter } = await import('./io-meter.ts');
  type Commit = typeof store.commit;

  const counter = ioMeter(store.client);
  let conflicts = 0;
  store.client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        if (reasons.some((r) => r.Code === 'TransactionConflict')) conflicts++;
        throw error;
      }
    },
    { step: 'initialize', name: 'conflictCounter' },
  );

  const uid = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  const limits = { ...deps.limits, maxGroupMembers: 3000, maxUserGroups: 5000 };

  /** Profiles with a group count (and `groupVerify` 0 for the invited), 25 per batch, 8 batches at once. */
  const seed = async (profiles: { userId: string; groupCount: number; groupVerify: number }[]) => {
    const batches: (typeof profiles)[] = [];
    for (let i = 0; i < profiles.length; i += 25) batches.push(profiles.slice(i, i + 25));
    for (let i = 0; i < batches.length; i += 8) {
      await Promise.all(
        batches.slice(i, i + 8).map((batch) =>
          store.client.send(
            new BatchWriteCommand({
              RequestItems: { [tableName]: batch.map((p) => ({ PutRequest: { Item: { ...keys.profile(p.userId), kind: 'profile', ...p } } })) },
            }),
          ),
        ),
      );
    }
  };
  const counts = async (userIds: string[]) => {
    const items = await batchGet(store.client, tableName, userIds.map(keys.profile), true);
    return new Map(items.map((item) => [item.userId as string, item.groupCount as number]));
  };

  console.log('\njanitor on DynamoDB Local (MAX_GROUP_MEMBERS=3000)');

  // A normal 3000-member creation: its time, and the conflicts of its parallel chunks.
  const owner = uid('owner');
  const everyone = Array.from({ length: 2999 }, (_, i) => `${owner}-${String(i).padStart(4, '0')}`);
  conflicts = 0;
  let started = performance.now();
  await createGroup({ ...deps, limits }, owner, { name: 'Bench', memberIds: everyone });
  const createMs = performance.now() - started;
  console.log(`  ${'create a 3000-member group'.padEnd(48)} ${ms(createMs)}  (${conflicts} transaction conflicts retried)`);
  const undone: { seated: number; invited: number; dyingCreationMs: number; undoMs: number; transactions: number; countsExact: boolean; itemsLeft: number }[] = [];

  // A creation whose request dies before its final transaction (the compensation dies with it),
  // all seated, then with 300 invited; then the janitor pass that undoes it.
  for (const invitedCount of [0, 300]) {
    const deadOwner = uid('dead');
    const seated = Array.from({ length: 2999 - invitedCount }, (_, i) => `${deadOwner}-s${String(i).padStart(4, '0')}`);
    const invited = Array.from({ length: invitedCount }, (_, i) => `${deadOwner}-i${String(i).padStart(3, '0')}`);
    const before = [deadOwner, ...seated].map((userId, i) => ({ userId, groupCount: i % 4, groupVerify: 1 }));
    await seed([...before, ...invited.map((userId) => ({ userId, groupCount: 1, groupVerify: 0 }))]);
    let dead = false;
    const dying: Commit = async (change, now) => {
      if (dead || change.token?.endsWith('-final')) {
        dead = true;
        throw new Error('the Lambda was killed');
      }
      return store.commit(change, now);
    };
    const createdAt = Date.now();
    const groupId = deps.newGroupId();
    const halfDeps = { ...deps, limits, now: () => createdAt, newGroupId: () => groupId, groups: createGroupRepository(store.client, tableName, dying) };
    console.log(`  -- ${before.length} seated, ${invitedCount} invited`);
    started = performance.now();
    await createGroup(halfDeps, deadOwner, { name: 'Dies', memberIds: [...seated, ...invited] }).catch(() => undefined);
    const dyingMs = performance.now() - started;
    console.log(`  ${'the dying creation (every chunk, no final)'.padEnd(48)} ${ms(dyingMs)}`);
    const written = await queryPrefix(store.client, tableName, keys.membersOf(groupId), 'sk');
    const notices = await queryPrefix(store.client, tableName, keys.noticesOf(groupId), 'sk');
    console.log(`  left behind: ${written.length} member items, ${notices.length} notices, group ${(await deps.groups.get(groupId))?.status}`);

    counter.start();
    started = performance.now();
    const summary = await runJanitor({ ...deps, now: () => createdAt + CREATION_STALE_MS });
    const undoTime = performance.now() - started;
    const pass = counter.stop();
    const tx = pass.commands.flat().filter((c) => c === 'TransactWriteItemsCommand').length;
    console.log(`  ${'janitor pass undoing it'.padEnd(48)} ${ms(undoTime)}  ${tx} transactions  ${JSON.stringify(summary)}`);

    const after = await counts(before.map((p) => p.userId));
    const exact = before.every((p) => after.get(p.userId) === p.groupCount);
    const membersLeft = (await queryPrefix(store.client, tableName, keys.membersOf(groupId), 'sk')).length;
    const noticesLeft = (await queryPrefix(store.client, tableName, keys.noticesOf(groupId), 'sk')).length;
    console.log(`  after: counts exact ${exact}, ${membersLeft} member items, ${noticesLeft} notices, group item ${(await deps.groups.get(groupId)) ? 'present' : 'gone'}`);
    if (!exact || membersLeft > 0 || noticesLeft > 0) process.exitCode = 1;
    undone.push({ seated: before.length, invited: invitedCount, dyingCreationMs: Math.round(dyingMs), undoMs: Math.round(undoTime), transactions: tx, countsExact: exact, itemsLeft: membersLeft + noticesLeft });
  }
  await recordResults('janitor', { runtime: 'in-process, DynamoDB Local (in memory, no stream)', create3000Ms: Math.round(createMs), undone });
} finally {
  await stack.stop();
}
