import { randomBytes } from 'node:crypto';
import { percentile, startBenchGateway, startPipelineStack } from './stack.ts';
import { recordResults } from './results.ts';

/**
 * Commit → RongCloud call latency on the local runtime: 200 creates over HTTP against the local
 * gateway, with the stream reader, local bus and notifier of `npm start`, and the fake RongCloud
 * as RONGCLOUD_API_URL. For each group: from the commit (the GroupCreated timestamp) to the
 * arrival of its `/group/create.json` and of its `ST:GrpNtf` at the fake.
 */

const GROUPS = Number(process.env.BENCH_GROUPS ?? 200);
/**
 * Creates per second. Each create costs one group message, and RongCloud allows the app 20 group
 * messages a second, which the notifier keeps (10/s per container, 2 containers): faster creation
 * queues by design. 8/s stays within what one container may send.
 */
const RATE = Number(process.env.BENCH_RATE ?? 8);

const stack = await startPipelineStack('events');
const { fake, events } = stack;
try {
  const { mintToken } = await import('#infra/local/tokens.ts');
  const secret = 'bench-secret';
  const gateway = await startBenchGateway({ secret, log: false });
  const base = gateway.baseUrl;
  try {
    const owner = `bench-owner-${randomBytes(3).toString('hex')}`;
    const token = await mintToken(owner, { name: 'Owner' }, secret);
    const committed = new Map<string, number>();
    const started = Date.now();
    for (let i = 0; i < GROUPS; i++) {
      const due = started + (i * 1000) / RATE;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const res = await fetch(`${base}/group/create`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Bench ${i}`, memberIds: [`${owner}-m${i}`] }),
      });
      const body = (await res.json()) as { code: number; result: { id: string } };
      if (body.code !== 200) throw new Error(`create failed: ${JSON.stringify(body)}`);
      committed.set(body.result.id, 0);
    }
    await events.settled(60_000);
    const elapsed = Date.now() - started;
    for (const e of events.bus.published) {
      const d = e.detail as { groupId?: string; timestamp?: number };
      if (d.groupId && committed.has(d.groupId)) committed.set(d.groupId, d.timestamp ?? 0);
    }
    const toCreate: number[] = [];
    const toNotice: number[] = [];
    for (const [groupId, at] of committed) {
      const create = fake.calls.find((c) => c.path === '/group/create.json' && c.form.get('groupId') === groupId);
      const notice = fake.calls.find((c) => c.path === '/message/group/publish.json' && c.form.get('toGroupId') === groupId);
      if (!create || !notice || !at) throw new Error(`group ${groupId} did not reach the fake`);
      toCreate.push(create.at - at);
      toNotice.push(notice.at - at);
    }
    const line = (label: string, xs: number[]) =>
      `  ${label.padEnd(34)} p50 ${String(percentile(xs, 50)).padStart(4)} ms   p95 ${String(percentile(xs, 95)).padStart(4)} ms   max ${String(Math.max(...xs)).padStart(4)} ms`;
    console.log(`\ncommit → RongCloud call on the local runtime (${GROUPS} creates over HTTP at ${RATE}/s, ${elapsed} ms in all; stream poll 25 ms)`);
    console.log(line('commit → /group/create.json', toCreate));
    console.log(line('commit → ST:GrpNtf Create', toNotice));
    const stats = (xs: number[]) => ({ p50Ms: percentile(xs, 50), p95Ms: percentile(xs, 95), maxMs: Math.max(...xs) });
    await recordResults('eventsLatency', {
      runtime: 'local gateway, stream relay, local bus and notifier; fake RongCloud',
      creates: GROUPS,
      ratePerSecond: RATE,
      commitToGroupCreate: stats(toCreate),
      commitToGroupNotice: stats(toNotice),
    });
    if (percentile(toNotice, 95) > 1_000) {
      console.error('target missed: p95 commit → call above 1 s');
      process.exitCode = 1;
    }
  } finally {
    await gateway.close();
  }
} finally {
  await stack.stop();
}
