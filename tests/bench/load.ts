import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { recordResults } from './results.ts';
import { percentile, startBenchGateway, startPipelineStack } from './stack.ts';

/**
 * `npm run load`: a bounded load run on the local runtime (loopback only; a fixed number of
 * requests; stops by itself). 50 concurrent clients drive a mixed workload over HTTP through the
 * local gateway — create, add, join, kick, quit, rename, bulletin, managers, transfer, dismiss, and
 * the reads (group, members, user groups) — against DynamoDB Local with the real event pipeline and
 * the fake RongCloud. Afterwards it checks, and fails (exit 1) unless:
 *
 * - no request answered 5xx;
 * - every active group's `memberCount` equals its member items, no dismissed group keeps members,
 *   and every user's `groupCount` equals their memberships;
 * - every committed event reached the fake RongCloud exactly once (for each event with a 1:1 IM
 *   message: as many messages per group and operation as events).
 *
 * It prints throughput and latency (p50/p95/p99) per request kind and records them in the `load`
 * section of bench-results.json (`npm run bench:report` renders the README's table). LOAD_CLIENTS
 * (50), LOAD_REQUESTS (3000) and LOAD_USERS (400) tune it.
 */

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 50);
const REQUESTS = Number(process.env.LOAD_REQUESTS ?? 3000);
const USERS = Number(process.env.LOAD_USERS ?? 400);

if (process.env.LOAD_LOG_LEVEL) process.env.BENCH_LOG_LEVEL ??= process.env.LOAD_LOG_LEVEL;

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;

let failed = false;
const stack = await startPipelineStack('load');
const { fake, events, tableName } = stack;
try {
  const { mintToken } = await import('#infra/local/tokens.ts');
  const { db } = await import('#tests/helpers/db.ts');
  const secret = 'load-secret';
  const gateway = await startBenchGateway({ secret, log: false });
  const base = gateway.baseUrl;
  try {
    const run = randomBytes(3).toString('hex');
    const users = Array.from({ length: USERS }, (_, i) => `load-${run}-u${i}`);
    const tokens = new Map(await Promise.all(users.map(async (u): Promise<[string, string]> => [u, await mintToken(u, { name: `User ${u}` }, secret)])));

    const latencies = new Map<string, number[]>();
    const statuses = new Map<number, number>();
    const fiveHundreds: string[] = [];
    const call = async (kind: string, as: string, method: 'GET' | 'POST', path: string, body?: unknown) => {
      const started = performance.now();
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens.get(as)}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      latencies.set(kind, [...(latencies.get(kind) ?? []), performance.now() - started]);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) fiveHundreds.push(`${kind} ${res.status} ${text.slice(0, 200)}`);
      try {
        return { status: res.status, body: JSON.parse(text) as { code?: number; result?: unknown } };
      } catch {
        return { status: res.status, body: {} };
      }
    };

    // What the clients know (they may be wrong: others change groups under them; errors are fine).
    const groups: { id: string; owner: string; members: Set<string> }[] = [];
    const someMembers = (n: number, except: string) => [...new Set(Array.from({ length: n }, () => pick(users)))].filter((u) => u !== except);

    const step = async (): Promise<void> => {
      const roll = Math.random();
      const group = groups.length > 0 ? pick(groups) : undefined;
      if (!group || roll < 0.12) {
        const owner = pick(users);
        const memberIds = someMembers(1 + Math.floor(Math.random() * 8), owner);
        const reply = await call('create', owner, 'POST', '/group/create', { name: `Load ${groups.length}`, memberIds });
        const id = (reply.body.result as { id?: string } | undefined)?.id;
        if (reply.body.code === 200 && id) groups.push({ id, owner, members: new Set([owner, ...memberIds]) });
        return;
      }
      const member = pick([...group.members]);
      if (roll < 0.3) {
        await call('get group', member, 'GET', `/group/${group.id}`);
      } else if (roll < 0.45) {
        await call('members', member, 'GET', `/group/${group.id}/members`);
      } else if (roll < 0.52) {
        await call('user groups', member, 'GET', '/user/groups');
      } else if (roll < 0.62) {
        const ids = someMembers(2, member);
        const reply = await call('add', member, 'POST', '/group/add', { groupId: group.id, memberIds: ids });
        if (reply.body.code === 200) for (const u of ids) group.members.add(u);
      } else if (roll < 0.7) {
        const joiner = pick(users);
        const reply = await call('join', joiner, 'POST', '/group/join', { groupId: group.id });
        if (reply.body.code === 200) group.members.add(joiner);
      } else if (roll < 0.76) {
        const victim = pick([...group.members].filter((u) => u !== group.owner)) as string | undefined;
        if (!victim) return;
        const reply = await call('kick', group.owner, 'POST', '/group/kick', { groupId: group.id, memberIds: [victim] });
        if (reply.body.code === 200) group.members.delete(victim);
      } else if (roll < 0.81) {
        const reply = await call('quit', member, 'POST', '/group/quit', { groupId: group.id });
        if (reply.body.code === 200) group.members.delete(member);
      } else if (roll < 0.85) {
        await call('rename', group.owner, 'POST', '/group/rename', { groupId: group.id, name: `Renamed ${Math.random().toString(36).slice(2, 8)}` });
      } else if (roll < 0.89) {
        await call('bulletin', group.owner, 'POST', '/group/set_bulletin', { groupId: group.id, content: `Notice ${Date.now()}` });
      } else if (roll < 0.93) {
        const target = pick([...group.members].filter((u) => u !== group.owner)) as string | undefined;
        if (target) await call('set manager', group.owner, 'POST', '/group/set_manager', { groupId: group.id, memberIds: [target] });
      } else if (roll < 0.96) {
        const target = pick([...group.members].filter((u) => u !== group.owner)) as string | undefined;
        if (!target) return;
        const reply = await call('transfer', group.owner, 'POST', '/group/transfer', { groupId: group.id, userId: target });
        if (reply.body.code === 200) group.owner = target;
      } else {
        const reply = await call('dismiss', group.owner, 'POST', '/group/dismiss', { groupId: group.id });
        if (reply.body.code === 200) groups.splice(groups.indexOf(group), 1);
      }
    };

    let issued = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (issued < REQUESTS) {
          issued += 1;
          await step();
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const settleStarted = performance.now();
    await events.settled(300_000);
    await events.bus.idle(300_000);
    await events.settled(300_000);
    const settleS = (performance.now() - settleStarted) / 1000;

    // --- checks -------------------------------------------------------------------------------------
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const metas = items.filter((i) => i.sk === 'META');
    const members = items.filter((i) => typeof i.sk === 'string' && i.sk.startsWith('MEMBER#'));
    const profiles = items.filter((i) => i.sk === 'PROFILE');
    const membersOf = new Map<string, number>();
    const membershipsOf = new Map<string, number>();
    for (const m of members) {
      membersOf.set(m.pk as string, (membersOf.get(m.pk as string) ?? 0) + 1);
      membershipsOf.set(m.userId as string, (membershipsOf.get(m.userId as string) ?? 0) + 1);
    }
    const problems: string[] = [];
    for (const g of metas) {
      const count = membersOf.get(g.pk as string) ?? 0;
      if (g.status === 'active' && g.memberCount !== count) problems.push(`${g.pk}: memberCount ${String(g.memberCount)}, ${count} member items`);
      if (g.status !== 'active' && count > 0) problems.push(`${g.pk} (${String(g.status)}) keeps ${count} member items`);
    }
    for (const p of profiles) {
      const count = membershipsOf.get(p.userId as string) ?? 0;
      if ((p.groupCount ?? 0) !== count) problems.push(`${String(p.userId)}: groupCount ${String(p.groupCount)}, ${count} memberships`);
    }

    // Every committed event with a 1:1 IM message reached the fake exactly once.
    const operationOf: Record<string, string> = {
      GroupCreated: 'Create',
      MembersKicked: 'Kicked',
      MemberQuit: 'Quit',
      GroupRenamed: 'Rename',
      GroupDismissed: 'Dismiss',
      OwnerTransferred: 'Transfer',
      ManagersSet: 'SetManager',
      MembersJoined: 'Add',
    };
    const expected = new Map<string, number>();
    let committed = 0;
    for (const item of items.filter((i) => i.kind === 'event')) {
      committed += 1;
      const detail = JSON.parse(item.detail as string) as { groupId: string };
      const operation = operationOf[item.detailType as string] ?? (item.detailType === 'BulletinPublished' ? 'RC:TxtMsg' : undefined);
      if (operation) expected.set(`${detail.groupId} ${operation}`, (expected.get(`${detail.groupId} ${operation}`) ?? 0) + 1);
    }
    const seen = new Map<string, number>();
    for (const c of fake.calls.filter((c) => c.path === '/message/group/publish.json')) {
      const objectName = c.form.get('objectName');
      const operation =
        objectName === 'ST:GrpNtf' ? (JSON.parse(c.form.get('content') ?? '{}') as { operation?: string }).operation : objectName === 'RC:TxtMsg' ? 'RC:TxtMsg' : undefined;
      if (operation) seen.set(`${c.form.get('toGroupId')} ${operation}`, (seen.get(`${c.form.get('toGroupId')} ${operation}`) ?? 0) + 1);
    }
    let messages = 0;
    for (const [key, n] of expected) {
      messages += n;
      if ((seen.get(key) ?? 0) !== n) problems.push(`${key}: ${n} events, ${seen.get(key) ?? 0} messages at the fake`);
    }
    for (const [key, n] of seen) if (!expected.has(key)) problems.push(`${key}: ${n} messages at the fake without an event`);

    // --- report -------------------------------------------------------------------------------------
    const all = [...latencies.values()].flat();
    const ms = (n: number) => `${n.toFixed(1)} ms`.padStart(9);
    console.log(`\nload: ${CLIENTS} clients, ${all.length} requests in ${elapsedS.toFixed(1)} s = ${(all.length / elapsedS).toFixed(0)} requests/s (DynamoDB Local, local gateway, one process)`);
    console.log(`  statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(', ')}`);
    console.log(`  all requests                  p50 ${ms(percentile(all, 50))}  p95 ${ms(percentile(all, 95))}  p99 ${ms(percentile(all, 99))}`);
    for (const [kind, xs] of [...latencies].sort()) {
      console.log(`  ${kind.padEnd(14)} ${String(xs.length).padStart(5)}  p50 ${ms(percentile(xs, 50))}  p95 ${ms(percentile(xs, 95))}`);
    }
    console.log(`  events committed ${committed}; pipeline settled ${settleS.toFixed(1)} s after the last request; ${messages} one-to-one IM messages checked`);
    console.log(`  groups ${metas.length}, member items ${members.length}, profiles ${profiles.length}`);
    if (fiveHundreds.length > 0) problems.unshift(...fiveHundreds.slice(0, 20).map((line) => `5xx: ${line}`));
    const tenth = (n: number) => Math.round(n * 10) / 10;
    await recordResults('load', {
      clients: CLIENTS,
      requests: all.length,
      seconds: tenth(elapsedS),
      requestsPerSecond: Math.round(all.length / elapsedS),
      p50Ms: tenth(percentile(all, 50)),
      p95Ms: tenth(percentile(all, 95)),
      p99Ms: tenth(percentile(all, 99)),
      statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
      kinds: [...latencies].sort().map(([kind, xs]) => ({ kind, requests: xs.length, p50Ms: tenth(percentile(xs, 50)), p95Ms: tenth(percentile(xs, 95)) })),
      eventsCommitted: committed,
      imMessagesChecked: messages,
      settleSeconds: tenth(settleS),
      groups: metas.length,
      memberItems: members.length,
      clean: problems.length === 0,
      problems: problems.slice(0, 40),
    });
    if (problems.length > 0) {
      failed = true;
      console.error(`load: ${problems.length} problems:\n  ${problems.slice(0, 40).join('\n  ')}`);
    } else {
      console.log('  clean: zero 5xx; every count exact; every event reached RongCloud exactly once');
    }
  } finally {
    await gateway.close();
  }
} finally {
  await stack.stop();
}
if (failed) process.exitCode = 1;
