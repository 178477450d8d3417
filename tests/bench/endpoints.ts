import { percentile, startBenchGateway, startBenchStack } from './stack.ts';
import { ioMeter, itemBytes, type Metered } from './io-meter.ts';
import { recordResults } from './results.ts';
import { FLOORS, type Floor } from './floors.ts';

/**
 * Every HTTP endpoint on the local runtime: the real gateway over loopback HTTP (JWT checked, the
 * API Gateway event built), the real handler, DynamoDB Local. For each endpoint, N sequential
 * requests, each on its own fixture where the request changes state, and for each request:
 *
 * - latency at the client (p50/p95);
 * - sequential DynamoDB round trips and the commands of each (io-meter.ts);
 * - consumed read and write capacity (`ReturnConsumedCapacity`), next to the minimum the
 *   endpoint's item access needs (floors.ts derives it per endpoint);
 * - handler overhead: the handler's time minus the time DynamoDB calls were in flight.
 *
 * Callers are warm (their profile claims already projected, as after their first request in a
 * container), except in the row that says "first request", which measures exactly that case.
 * Writes `endpoints` to bench-results.json (report.ts renders the README's table from it).
 *
 *   node --import tsx tests/bench/endpoints.ts
 */

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 40);
const WARMUP = 3;

const stack = await startBenchStack('endpoints', { COPY_PROTECTION_MS: '0', COPY_INTERVAL_MS: '0' }, { stream: false });
try {
  const { store } = await import('#lib/app.ts');
  const { loadHandler } = await import('#infra/local/gateway.ts');
  const { testToken, TEST_JWT_SECRET } = await import('#tests/helpers/tokens.ts');
  const { patch, getItem } = await import('#tests/helpers/db.ts');
  const { keys } = await import('#lib/store/keys.ts');
  const { randomBytes } = await import('node:crypto');
  const meter = ioMeter(store.client, { capacity: 'writes' });

  /** The handler time of the last request (the gateway's loader wraps every handler). */
  let handlerMs = NaN;
  const gateway = await startBenchGateway({
    secret: TEST_JWT_SECRET,
    log: false,
    load: async (name) => {
      const handler = await loadHandler(name);
      return async (event, context) => {
        const started = performance.now();
        try {
          return await handler(event, context);
        } finally {
          handlerMs = performance.now() - started;
        }
      };
    },
  });
  const { baseUrl } = gateway;

  const tokens = new Map<string, string>();
  const tokenOf = async (userId: string) => {
    let token = tokens.get(userId);
    if (!token) {
      token = await testToken(userId, { name: `Name of ${userId}` });
      tokens.set(userId, token);
    }
    return token;
  };

  interface Request {
    as: string;
    method: 'GET' | 'POST' | 'DELETE';
    path: string;
    body?: unknown;
  }
  const send = async (request: Request) => {
    const response = await fetch(new URL(request.path, baseUrl), {
      method: request.method,
      headers: { authorization: `Bearer ${await tokenOf(request.as)}`, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    });
    const body = (await response.json()) as { code?: number; result?: unknown };
    if (response.status !== 200 || body.code !== 200) throw new Error(`${request.method} ${request.path} as ${request.as}: ${response.status} ${JSON.stringify(body)}`);
    return body.result;
  };
  const post = (as: string, path: string, body: unknown) => send({ as, method: 'POST', path, body });

  const uid = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
  const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  /** The caller's first request projects its claims; warm callers have made one already. */
  const warm = async (...users: string[]) => {
    await Promise.all(users.map((u) => send({ as: u, method: 'GET', path: '/user/groups' })));
  };
  const group = async (owner: string, memberIds: string[], name = 'Bench group'): Promise<string> =>
    ((await post(owner, '/group/create', { name, memberIds })) as { id: string }).id;
  /** A group of `size` members (owner included) whose owner and members are warm. */
  const fixture = async (size = 10) => {
    const owner = uid('o');
    const members = many(uid('m'), size - 1);
    await warm(owner, ...members);
    return { owner, members: members as [string, ...string[]], id: await group(owner, members) };
  };
  type Fixture = Awaited<ReturnType<typeof fixture>>;
  /** A request on a fresh fixture group of `size` members (for requests that change it). */
  const onFreshGroup = (size: number, request: (f: Fixture) => Request | Promise<Request>) => async () => request(await fixture(size));
  /** A fresh group needing approval, with one warm user's join request waiting for its owner. */
  const withJoinRequest = async () => {
    const f = await fixture(3);
    await patch(keys.group(f.id), { certiStatus: 0 });
    const asker = uid('ask');
    await warm(asker);
    await post(asker, '/group/join', { groupId: f.id });
    return { ...f, asker };
  };

  interface Scenario {
    /** The route key, and what the row measures when the route has several rows. */
    route: string;
    label?: string;
    /** Builds the fixture of one request (not measured) and returns the request. */
    prepare(i: number): Promise<Request>;
    iterations?: number;
  }

  // Shared read fixtures.
  const small = await fixture(10);
  const [reader] = small.members as [string];
  const clearing = await fixture(3);
  const big = await fixture(500);
  const busy = uid('busy');
  await warm(busy);
  for (let i = 0; i < 20; i++) await group(uid('g'), [busy]);
  const saver = uid('saver');
  await warm(saver);
  for (let i = 0; i < 5; i++) {
    const id = await group(uid('g'), [saver]);
    await send({ as: saver, method: 'POST', path: '/group/fav', body: { groupId: id } });
  }
  // Exited list: five members left the small group's twin.
  const left = await fixture(10);
  for (const member of left.members.slice(0, 5)) await post(member, '/group/quit', { groupId: left.id });
  // Bulletin and member info to read.
  await post(small.owner, '/group/set_bulletin', { groupId: small.id, content: 'Welcome to the bench group' });
  await post(reader, '/group/set_member_info', { groupId: small.id, memberId: reader, groupNickname: 'Reader', region: '86', phone: '13800000000' });
  // A notice inbox: the owner of a group needing approval has five join requests waiting.
  const gated = await fixture(3);
  await patch(keys.group(gated.id), { certiStatus: 0 });
  const askers = many(uid('ask'), 5);
  await warm(...askers);
  for (const asker of askers) await post(asker, '/group/join', { groupId: gated.id });

  const scenarios: Scenario[] = [
    {
      route: 'POST /group/create',
      label: '10 members',
      prepare: async () => {
        const owner = uid('o');
        const members = many(uid('m'), 9);
        await warm(owner, ...members);
        return { as: owner, method: 'POST', path: '/group/create', body: { name: 'Bench', memberIds: members } };
      },
    },
    {
      route: 'POST /group/add',
      label: '1 user',
      prepare: onFreshGroup(5, async ({ owner, id }) => {
        const newcomer = uid('n');
        await warm(newcomer);
        return { as: owner, method: 'POST', path: '/group/add', body: { groupId: id, memberIds: [newcomer] } };
      }),
    },
    {
      route: 'POST /group/join',
      prepare: onFreshGroup(5, async ({ id }) => {
        const joiner = uid('j');
        await warm(joiner);
        return { as: joiner, method: 'POST', path: '/group/join', body: { groupId: id } };
      }),
    },
    {
      route: 'POST /group/join',
      label: "the caller's first request (claims projected)",
      prepare: onFreshGroup(5, ({ id }) => ({ as: uid('first'), method: 'POST', path: '/group/join', body: { groupId: id } })),
    },
    {
      route: 'POST /group/kick',
      label: '1 member',
      prepare: onFreshGroup(5, ({ owner, members, id }) => ({ as: owner, method: 'POST', path: '/group/kick', body: { groupId: id, memberIds: [members[0]] } })),
    },
    {
      route: 'POST /group/quit',
      prepare: onFreshGroup(5, ({ members, id }) => ({ as: members[0], method: 'POST', path: '/group/quit', body: { groupId: id } })),
    },
    {
      route: 'POST /group/dismiss',
      label: '10 members',
      prepare: onFreshGroup(10, ({ owner, id }) => ({ as: owner, method: 'POST', path: '/group/dismiss', body: { groupId: id } })),
    },
    {
      route: 'POST /group/transfer',
      prepare: onFreshGroup(5, ({ owner, members, id }) => ({ as: owner, method: 'POST', path: '/group/transfer', body: { groupId: id, userId: members[0] } })),
    },
    {
      route: 'POST /group/set_manager',
      label: '1 member',
      prepare: onFreshGroup(5, ({ owner, members, id }) => ({ as: owner, method: 'POST', path: '/group/set_manager', body: { groupId: id, memberIds: [members[0]] } })),
    },
    {
      route: 'POST /group/remove_manager',
      label: '1 manager',
      prepare: onFreshGroup(5, async ({ owner, members, id }) => {
        await post(owner, '/group/set_manager', { groupId: id, memberIds: [members[0]] });
        return { as: owner, method: 'POST', path: '/group/remove_manager', body: { groupId: id, memberIds: [members[0]] } };
      }),
    },
    {
      route: 'POST /group/rename',
      prepare: async (i) => ({ as: small.owner, method: 'POST', path: '/group/rename', body: { groupId: small.id, name: `Renamed ${i}` } }),
    },
    {
      route: 'POST /group/fav',
      prepare: onFreshGroup(3, ({ members, id }) => ({ as: members[0], method: 'POST', path: '/group/fav', body: { groupId: id } })),
    },
    {
      route: 'DELETE /group/fav',
      prepare: onFreshGroup(3, async ({ members, id }) => {
        await post(members[0], '/group/fav', { groupId: id });
        return { as: members[0], method: 'DELETE', path: '/group/fav', body: { groupId: id } };
      }),
    },
    {
      route: 'POST /group/set_bulletin',
      prepare: async (i) => ({ as: small.owner, method: 'POST', path: '/group/set_bulletin', body: { groupId: small.id, content: `Bulletin ${i}` } }),
    },
    {
      route: 'GET /group/get_bulletin',
      prepare: async () => ({ as: reader, method: 'GET', path: `/group/get_bulletin?groupId=${small.id}` }),
    },
    {
      route: 'POST /group/set_portrait_uri',
      prepare: async (i) => ({ as: small.owner, method: 'POST', path: '/group/set_portrait_uri', body: { groupId: small.id, portraitUri: `https://example.com/p/${i}.png` } }),
    },
    {
      route: 'POST /group/set_display_name',
      prepare: async (i) => ({ as: reader, method: 'POST', path: '/group/set_display_name', body: { groupId: small.id, displayName: `Reader ${i}` } }),
    },
    {
      route: 'POST /group/set_certification',
      prepare: async (i) => ({ as: small.owner, method: 'POST', path: '/group/set_certification', body: { groupId: small.id, certiStatus: i % 2 } }),
    },
    {
      route: 'POST /group/agree',
      label: 'the owner approves a join request',
      prepare: async () => {
        const { owner, id, asker } = await withJoinRequest();
        return { as: owner, method: 'POST', path: '/group/agree', body: { groupId: id, receiverId: asker, status: 1 } };
      },
    },
    {
      route: 'GET /group/notice_info',
      label: '5 notices',
      prepare: async () => ({ as: gated.owner, method: 'GET', path: '/group/notice_info' }),
    },
    {
      route: 'POST /group/clear_notice',
      label: '1 notice',
      prepare: async () => ({ as: (await withJoinRequest()).owner, method: 'POST', path: '/group/clear_notice', body: {} }),
    },
    {
      route: 'POST /group/mute_all',
      prepare: async (i) => ({ as: small.owner, method: 'POST', path: '/group/mute_all', body: { groupId: small.id, muteStatus: (i + 1) % 2 } }),
    },
    {
      // Its own group: once clearing is on, the group item is in gsi2 and every later write of it costs more.
      route: 'POST /group/set_regular_clear',
      prepare: async (i) => ({ as: clearing.owner, method: 'POST', path: '/group/set_regular_clear', body: { groupId: clearing.id, clearStatus: [3, 7, 36][i % 3] } }),
    },
    {
      route: 'POST /group/get_regular_clear',
      prepare: async () => ({ as: clearing.owner, method: 'POST', path: '/group/get_regular_clear', body: { groupId: clearing.id } }),
    },
    {
      route: 'POST /group/set_member_protection',
      prepare: async (i) => ({ as: small.owner, method: 'POST', path: '/group/set_member_protection', body: { groupId: small.id, memberProtection: (i + 1) % 2 } }),
    },
    {
      route: 'POST /group/set_member_info',
      prepare: async (i) => ({
        as: reader,
        method: 'POST',
        path: '/group/set_member_info',
        body: { groupId: small.id, memberId: reader, groupNickname: `Reader ${i}`, region: '86' },
      }),
    },
    {
      route: 'POST /group/get_member_info',
      prepare: async () => ({ as: small.owner, method: 'POST', path: '/group/get_member_info', body: { groupId: small.id, memberId: reader } }),
    },
    {
      route: 'POST /group/copy_group',
      label: '10 members',
      prepare: onFreshGroup(10, ({ owner, id }) => ({ as: owner, method: 'POST', path: '/group/copy_group', body: { groupId: id, name: 'Copy' } })),
    },
    {
      route: 'POST /group/exited_list',
      label: '5 exits',
      prepare: async () => ({ as: left.owner, method: 'POST', path: '/group/exited_list', body: { groupId: left.id } }),
    },
    {
      route: 'GET /group/{id}',
      prepare: async () => ({ as: reader, method: 'GET', path: `/group/${small.id}` }),
    },
    {
      route: 'GET /group/{id}/members',
      label: '10 members',
      prepare: async () => ({ as: reader, method: 'GET', path: `/group/${small.id}/members` }),
    },
    {
      route: 'GET /group/{id}/members',
      label: '500 members',
      iterations: 20,
      prepare: async () => ({ as: big.members[0], method: 'GET', path: `/group/${big.id}/members` }),
    },
    {
      route: 'GET /user/groups',
      label: '20 groups',
      prepare: async () => ({ as: busy, method: 'GET', path: '/user/groups' }),
    },
    {
      route: 'GET /user/favgroups',
      label: '5 saved',
      prepare: async () => ({ as: saver, method: 'GET', path: '/user/favgroups' }),
    },
  ];

  interface Row {
    route: string;
    label?: string;
    iterations: number;
    p50Ms: number;
    p95Ms: number;
    handlerOverheadP50Ms: number;
    roundTrips: number;
    commands: string[][];
    readUnits: number;
    writeUnits: number;
    floor: Floor;
    capacityRatio: number;
    targets: { roundTrips: boolean; overhead: boolean; capacity: boolean };
  }
  const rows: Row[] = [];
  const median = (xs: number[]) => percentile(xs, 50);
  for (const scenario of scenarios) {
    const key = scenario.label ? `${scenario.route} (${scenario.label})` : scenario.route;
    const floor = FLOORS[key];
    if (!floor) throw new Error(`no floor derived for ${key} in tests/bench/floors.ts`);
    const n = scenario.iterations ?? ITERATIONS;
    const latencies: number[] = [];
    const overheads: number[] = [];
    const runs: Metered[] = [];
    for (let i = 0; i < WARMUP + n; i++) {
      const request = await scenario.prepare(i);
      meter.start();
      const started = performance.now();
      await send(request);
      const elapsed = performance.now() - started;
      const metered = meter.stop();
      if (i < WARMUP) continue;
      // The meter's own reads of written items happen while the handler waits: not the endpoint's time.
      latencies.push(elapsed - (metered.busyMs - metered.ioMs));
      overheads.push(handlerMs - metered.busyMs);
      runs.push(metered);
    }
    // Every run of a scenario does the same work; report the worst round count (its commands) and the median units.
    const roundTrips = Math.max(...runs.map((r) => r.rounds));
    const worst = runs.find((r) => r.rounds === roundTrips) as Metered;
    const readUnits = median(runs.map((r) => r.readUnits));
    const writeUnits = median(runs.map((r) => r.writeUnits));
    const used = readUnits + writeUnits;
    const minimum = floor.reads + floor.writes;
    const row: Row = {
      route: scenario.route,
      ...(scenario.label ? { label: scenario.label } : {}),
      iterations: n,
      p50Ms: round(percentile(latencies, 50)),
      p95Ms: round(percentile(latencies, 95)),
      handlerOverheadP50Ms: round(median(overheads)),
      roundTrips,
      commands: worst.commands.map((r) => r.map((c) => c.replace(/Command$/, ''))),
      readUnits,
      writeUnits,
      floor,
      capacityRatio: round(minimum === 0 ? 1 : used / minimum, 2),
      targets: {
        roundTrips: roundTrips <= floor.maxRoundTrips,
        overhead: median(overheads) <= 2,
        capacity: used <= 1.5 * minimum,
      },
    };
    rows.push(row);
    console.log(
      `${key.padEnd(64)} p50 ${fmt(row.p50Ms)} p95 ${fmt(row.p95Ms)} overhead ${fmt(row.handlerOverheadP50Ms)} rounds ${roundTrips}/${floor.maxRoundTrips} ` +
        `units ${readUnits}R+${writeUnits}W vs ${floor.reads}R+${floor.writes}W (${row.capacityRatio}x) ${Object.values(row.targets).every(Boolean) ? '' : 'MISS'}`,
    );
  }

  // The item sizes the floors assume (≤ 1 KB per written item, ≤ 4 KB per read item), checked on the fixtures.
  const sizes = {
    group: itemBytes(await getItem(keys.group(small.id))),
    member: itemBytes(await getItem(keys.member(small.id, reader))),
    profile: itemBytes(await getItem(keys.profile(reader))),
  };
  console.log(`\nitem sizes: ${Object.entries(sizes).map(([k, v]) => `${k} ${v} B`).join(', ')}`);

  const misses = rows.filter((r) => !Object.values(r.targets).every(Boolean));
  await recordResults('endpoints', {
    runtime: 'local gateway over loopback HTTP, real handlers, DynamoDB Local (in memory, no stream)',
    iterationsPerEndpoint: ITERATIONS,
    targets: { roundTrips: 'as derived per endpoint (≤ 2 for single-group reads and writes)', handlerOverheadP50Ms: 2, capacityRatio: 1.5 },
    itemBytes: sizes,
    rows,
    misses: misses.map((r) => (r.label ? `${r.route} (${r.label})` : r.route)),
  });
  console.log(`\n${rows.length} endpoint rows; ${misses.length} miss a target${misses.length ? `: ${misses.map((r) => r.route).join(', ')}` : ''}`);
  meter.destroy();
  await gateway.close();
} finally {
  await stack.stop();
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`.padStart(9);
}
