import { percentile, startBenchStack } from './stack.ts';
import { recordResults, type ScaleRow as Row } from './results.ts';

/**
 * Large groups on DynamoDB Local with MAX_GROUP_MEMBERS=3000: create with 500, add 500, list 3000
 * (whole and in pages of 500), kick 500, dismiss 3000 and the cleanup that releases its members.
 * For each: the request's time, the time until everything it changes is in place (for the
 * dismissal: the group-cleanup consumer finished), DynamoDB round trips and transactions, and the
 * capacity it consumed (io-meter.ts; measured on a twin request, because reading every written
 * item for the count would distort the time of the timed one). The regular-clear pass of 3000
 * members runs with the event pipeline in `regular-clear.ts`.
 *
 *   node --import tsx tests/bench/scale.ts
 */

const stack = await startBenchStack('scale', { MAX_GROUP_MEMBERS: '3000', MAX_USER_GROUPS: '5000' }, { stream: false });
try {
  const { randomBytes } = await import('node:crypto');
  const { store } = await import('#lib/app.ts');
  const { callRoute } = await import('#tests/helpers/lambda.ts');
  const { ioMeter } = await import('./io-meter.ts');
  const { outboxEnvelopes } = await import('#tests/helpers/outbox.ts');
  const { groupItem, partitionItems } = await import('#tests/helpers/db.ts');
  const { handler: cleanup } = (await import('#functions/group-cleanup.ts')) as { handler: (event: unknown) => Promise<void> };
  const meter = ioMeter(store.client, { capacity: 'writes' });

  const uid = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
  const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  const call = async (method: 'GET' | 'POST', path: string, as: string, body?: unknown) => {
    const reply = await callRoute<{ code?: number; result?: unknown; nextCursor?: string; message?: string }>(method, path, {
      as,
      ...(body === undefined ? {} : { body }),
    });
    if (reply.body.code !== 200) throw new Error(`${path} failed: ${JSON.stringify(reply.body)}`);
    return reply.body;
  };
  const create = async (owner: string, memberIds: string[]) => ((await call('POST', '/group/create', owner, { name: 'Scale', memberIds })).result as { id: string }).id;
  const transactions = (commands: string[][]) => commands.flat().filter((c) => c === 'TransactWriteItemsCommand').length;
  const memberItems = async (groupId: string) => (await partitionItems(groupId, 'MEMBER#')).length;

  const rows: Row[] = [];
  const print = (row: Row) => {
    rows.push(row);
    console.log(
      `  ${row.operation.padEnd(36)} request ${row.requestMs.toFixed(0).padStart(6)} ms  consistent ${row.consistentMs.toFixed(0).padStart(6)} ms  ` +
        `${String(row.roundTrips).padStart(3)} rounds ${String(row.transactions).padStart(3)} tx  ${row.readUnits}R + ${row.writeUnits}W  ${row.check}`,
    );
  };

  /**
   * Runs `timed` with a timing-only window, then `twin` (the same request on a twin fixture) with
   * capacity counted. `settle` (optional) runs after the timed request until its effects are all in
   * place; its time counts towards `consistentMs`.
   */
  const measure = async (
    operation: string,
    timed: () => Promise<unknown>,
    twin: () => Promise<unknown>,
    check: () => Promise<string>,
    settle?: () => Promise<void>,
  ) => {
    meter.start({ capacity: false });
    const started = performance.now();
    await timed();
    const requestMs = performance.now() - started;
    const timing = meter.stop();
    if (settle) await settle();
    const consistentMs = performance.now() - started;
    meter.start({ capacity: true });
    await twin();
    const counted = meter.stop();
    print({
      operation,
      requestMs,
      consistentMs,
      roundTrips: timing.rounds,
      transactions: transactions(timing.commands),
      readUnits: counted.readUnits,
      writeUnits: counted.writeUnits,
      check: await check(),
    });
  };

  console.log('\nscale on DynamoDB Local (MAX_GROUP_MEMBERS=3000)');

  // create with 500 (the owner and 499)
  const owners = [uid('o'), uid('o')];
  const created: string[] = [];
  const make500 = (owner: string) => async () => {
    created.push(await create(owner, many(uid('m'), 499)));
  };
  await measure('POST /group/create, 500 members', make500(owners[0] as string), make500(owners[1] as string), async () => {
    const [count, items] = [(await groupItem(created[0] as string))?.memberCount, await memberItems(created[0] as string)];
    return `memberCount ${count}, member items ${items}`;
  });

  // add 500 (100 per request, the API's maximum) to a group of 500
  const addTo = (groupId: string, owner: string) => async () => {
    const newcomers = many(uid('n'), 500);
    for (let i = 0; i < 500; i += 100) await call('POST', '/group/add', owner, { groupId, memberIds: newcomers.slice(i, i + 100) });
  };
  await measure(
    'POST /group/add, 500 (5 requests of 100)',
    addTo(created[0] as string, owners[0] as string),
    addTo(created[1] as string, owners[1] as string),
    async () => `memberCount ${(await groupItem(created[0] as string))?.memberCount}, member items ${await memberItems(created[0] as string)}`,
  );

  // list 3000, whole and paged
  const bigOwner = uid('big');
  const everyone = many(uid('b'), 2999);
  const started = performance.now();
  const big = await create(bigOwner, everyone);
  console.log(`  (set-up: a 3000-member group created in ${(performance.now() - started).toFixed(0)} ms)`);
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await call('GET', `/group/${big}/members`, everyone[i] as string);
    latencies.push(performance.now() - t);
  }
  let listed = 0;
  await measure(
    'GET /group/{id}/members, 3000 whole',
    async () => {
      listed = ((await call('GET', `/group/${big}/members`, bigOwner)).result as unknown[]).length;
    },
    () => call('GET', `/group/${big}/members`, bigOwner),
    async () => `${listed} members; p50 of 5 more ${percentile(latencies, 50).toFixed(0)} ms`,
  );
  let pages = 0;
  let paged = 0;
  const pageThrough = async () => {
    pages = 0;
    paged = 0;
    let cursor: string | undefined;
    do {
      const body = await call('GET', `/group/${big}/members?limit=500${cursor ? `&cursor=${cursor}` : ''}`, bigOwner);
      pages += 1;
      paged += (body.result as unknown[]).length;
      cursor = body.nextCursor;
    } while (cursor);
  };
  await measure('GET /group/{id}/members, 3000 in pages of 500', pageThrough, pageThrough, async () => `${paged} members in ${pages} pages`);

  // kick 500 of 3000
  const twinOwner = uid('twin');
  const twinMembers = many(uid('t'), 2999);
  const twin = await create(twinOwner, twinMembers);
  await measure(
    'POST /group/kick, 500 of 3000',
    () => call('POST', '/group/kick', bigOwner, { groupId: big, memberIds: everyone.slice(0, 500) }),
    () => call('POST', '/group/kick', twinOwner, { groupId: twin, memberIds: twinMembers.slice(0, 500) }),
    async () => `memberCount ${(await groupItem(big))?.memberCount}, member items ${await memberItems(big)}`,
  );

  // dismiss 2500 (what is left of the 3000), then the cleanup consumer releases the members
  const release = (groupId: string) => async () => {
    const dismissed = (await outboxEnvelopes(groupId)).find((e) => e['detail-type'] === 'GroupDismissed');
    await cleanup(dismissed);
  };
  await measure(
    'POST /group/dismiss, 2500 members, then the cleanup',
    () => call('POST', '/group/dismiss', bigOwner, { groupId: big }),
    async () => {
      await call('POST', '/group/dismiss', twinOwner, { groupId: twin });
      await release(twin)();
    },
    async () => `member items left ${await memberItems(big)} (twin: ${await memberItems(twin)})`,
    release(big),
  );
  const left = (await callRoute('GET', `/group/${big}/members`, { as: bigOwner })).status;
  console.log(`  after cleanup: GET members of the dismissed group answers ${left}; capacity of the dismissal row includes its cleanup`);

  await recordResults('scale', {
    runtime: 'handlers in-process (the gateway event), DynamoDB Local (in memory, no stream); MAX_GROUP_MEMBERS=3000',
    rows,
  });
  meter.destroy();
} finally {
  await stack.stop();
}
