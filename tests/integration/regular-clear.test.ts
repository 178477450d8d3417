import { randomBytes, randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureTable, localClient } from '#infra/local/dynamodb.ts';
import {
  CLEAR_CHUNK_MEMBERS,
  CLEAR_CLAIM_LEASE_MS,
  CLEAR_INTERVAL_MS,
  CLEAR_RETENTION_MS,
  clearChunk,
  runClearPass,
  type ChunkQueue,
  type ClearChunk,
  type HistoryCleaner,
} from '#lib/domain/clearing.ts';
import { createRongCloudClient } from '#lib/im/client.ts';
import { createRongCloudApi } from '#lib/im/rongcloud.ts';
import { createPassHandler, createWorkerHandler, newRunId } from '#lib/im/regular-clear.ts';
import { logger } from '#lib/log.ts';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { eventsFor, getItem, groupItem, patch } from '#tests/helpers/db.ts';
import { startFakeRongCloud, type FakeRongCloud, type RecordedCall } from '#tests/helpers/fake-rongcloud.ts';
import { ok, users } from '#tests/helpers/checks.ts';

// A table of this file's own (the pass claims every due group of its table, so other files' groups
// must not be in it), and groups of up to 3000 members. vi.hoisted runs before the imports above.
vi.hoisted(() => {
  process.env.TABLE_NAME = `sealtalk-test-clear-${Math.random().toString(16).slice(2, 10)}`;
  process.env.MAX_GROUP_MEMBERS = '3000';
});

const { store } = await import('#lib/app.ts');

const HISTORY = '/conversation/message/history/clean.json';
const HOUR = 3_600_000;

let fake: FakeRongCloud;
let cleaner: HistoryCleaner;

beforeAll(async () => {
  const ddb = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  // No stream: nothing relays this file's events, and DynamoDB Local's writes slow down as a stream grows.
  await ensureTable(ddb, process.env.TABLE_NAME as string, undefined, { stream: false });
  ddb.destroy();
  fake = await startFakeRongCloud();
  const im = createRongCloudApi(createRongCloudClient({ appKey: fake.appKey, appSecret: fake.appSecret, baseUrls: [fake.url] }));
  cleaner = { clean: (groupId, userId, beforeMs) => im.cleanGroupHistory(groupId, userId, beforeMs) };
});

afterAll(async () => {
  await fake.close();
});

/** A queue in memory: what a pass sent, in order. */
const memoryQueue = () => {
  const sent: ClearChunk[] = [];
  const queue: ChunkQueue = {
    send: async (chunks) => {
      sent.push(...chunks);
    },
  };
  return { sent, queue };
};

const pass = (now: number, queue: ChunkQueue) =>
  runClearPass({ clearing: store.clearing, queue, now: () => now, newRunId, log: logger });

const work = (chunk: ClearChunk, history: HistoryCleaner = cleaner) =>
  clearChunk({ clearing: store.clearing, history, now: Date.now, log: logger }, chunk);

/** Runs every queued chunk once, in order. */
const drain = async (chunks: ClearChunk[], history?: HistoryCleaner) => {
  for (const chunk of chunks.splice(0)) await work(chunk, history);
};

const historyCallsOf = (groupId: string): RecordedCall[] => fake.calls.filter((c) => c.path === HISTORY && c.form.get('targetId') === groupId);
const msgClearsOf = async (groupId: string) =>
  (await eventsFor(groupId)).filter((e) => e.detailType === 'GroupMessagesCleared').map((e) => e.detail);
const claimedIds = (summary: { claimed: { groupId: string }[] }) => summary.claimed.map((c) => c.groupId);

const groupClearing = async (clearStatus: 3 | 7 | 36, memberCount = 2) => {
  const [owner, ...members] = users('owner', ...Array.from({ length: memberCount }, () => 'member'));
  const id = await createGroup(owner, members);
  ok(await api.setRegularClear(owner, { groupId: id, clearStatus }));
  return { id, owner, members, everyone: [owner, ...members] };
};

describe('regular clear: the pass and its chunks', () => {
  it('clears due 3-, 7- and 36-groups: one history call per member with the right cutoff, then GroupMessagesCleared from the owner', async () => {
    const groups = await Promise.all([groupClearing(3, 2), groupClearing(7, 1), groupClearing(36, 4)]);
    const now = Date.now();
    const { sent, queue } = memoryQueue();
    const summary = await pass(now, queue);
    expect(claimedIds(summary)).toEqual(expect.arrayContaining(groups.map((g) => g.id)));
    await drain(sent);

    for (const [group, status] of [
      [groups[0], 3],
      [groups[1], 7],
      [groups[2], 36],
    ] as const) {
      const cutoff = now - CLEAR_RETENTION_MS[status];
      const calls = historyCallsOf(group!.id);
      // One call per member, each for that member's history of the group (conversation type 3).
      expect(calls.map((c) => c.form.get('fromUserId')).sort()).toEqual([...group!.everyone].sort());
      for (const call of calls) {
        expect(Object.fromEntries(call.form)).toMatchObject({ conversationType: '3', targetId: group!.id, msgTimestamp: String(cutoff) });
      }
      const [event, ...more] = await msgClearsOf(group!.id);
      expect(more).toEqual([]);
      expect(event).toMatchObject({ groupId: group!.id, operatorId: group!.owner, clearStatus: status, clearTime: cutoff, members: group!.everyone.length });
      // The clear is recorded and the group is scheduled one interval later.
      const item = await groupItem(group!.id);
      expect(item).toMatchObject({ clearTimeAt: now, clearedBefore: cutoff, ...keys.clearSchedule(group!.id, now + CLEAR_INTERVAL_MS[status]) });
      expect(await getItem(keys.clearRun(group!.id, item?.clearRunId as string))).toMatchObject({ status: 'done', chunks: 1, calls: group!.everyone.length });
    }
  });

  it('does nothing on a second pass right after, and clears again once the interval passed (12 h for 36, 24 h for 3 and 7)', async () => {
    const [three, thirtySix] = await Promise.all([groupClearing(3, 1), groupClearing(36, 1)]);
    const now = Date.now();
    const { sent, queue } = memoryQueue();
    await pass(now, queue);
    await drain(sent);

    const again = claimedIds(await pass(now + 60_000, queue));
    expect(again).not.toContain(three.id);
    expect(again).not.toContain(thirtySix.id);
    expect(sent.filter((c) => c.groupId === three.id || c.groupId === thirtySix.id)).toEqual([]);

    // 12 h later only the 36-hour group is due; 24 h later both.
    const halfDay = claimedIds(await pass(now + 12 * HOUR, queue));
    expect(halfDay).toContain(thirtySix.id);
    expect(halfDay).not.toContain(three.id);
    await drain(sent);
    const day = claimedIds(await pass(now + 24 * HOUR, queue));
    expect(day).toEqual(expect.arrayContaining([three.id, thirtySix.id]));
    await drain(sent);
    expect(historyCallsOf(three.id)).toHaveLength(2 * 2);
    expect(historyCallsOf(thirtySix.id)).toHaveLength(3 * 2);
    expect(await msgClearsOf(thirtySix.id)).toHaveLength(3);
  });

  it('claims each due group once when two passes run at once', async () => {
    const groups = await Promise.all([groupClearing(3, 3), groupClearing(7, 3), groupClearing(36, 3)]);
    const ids = groups.map((g) => g.id);
    const now = Date.now();
    const a = memoryQueue();
    const b = memoryQueue();
    const [first, second] = await Promise.all([pass(now, a.queue), pass(now, b.queue)]);
    const claims = [...claimedIds(first), ...claimedIds(second)].filter((id) => ids.includes(id));
    expect(claims.sort()).toEqual([...ids].sort());
    await Promise.all([drain(a.sent), drain(b.sent)]);
    for (const group of groups) {
      expect(historyCallsOf(group.id)).toHaveLength(group.everyone.length);
      expect(await msgClearsOf(group.id)).toHaveLength(1);
    }
  });

  it('never clears a group switched off, before or after it was claimed', async () => {
    const before = await groupClearing(3, 2);
    ok(await api.setRegularClear(before.owner, { groupId: before.id, clearStatus: 0 }));
    const after = await groupClearing(7, 2);
    const now = Date.now();
    const { sent, queue } = memoryQueue();
    const summary = await pass(now, queue);
    expect(claimedIds(summary)).not.toContain(before.id);
    expect(claimedIds(summary)).toContain(after.id);

    // Switched off between the pass and its chunks: the chunk cancels the run.
    ok(await api.setRegularClear(after.owner, { groupId: after.id, clearStatus: 0 }));
    await drain(sent);
    for (const group of [before, after]) {
      expect(historyCallsOf(group.id)).toEqual([]);
      expect(await msgClearsOf(group.id)).toEqual([]);
    }
    const item = await groupItem(after.id);
    expect(await getItem(keys.clearRun(after.id, item?.clearRunId as string))).toMatchObject({ status: 'cancelled', reason: 'clearing was switched off' });
    const later = claimedIds(await pass(now + 48 * HOUR, queue));
    expect(later).not.toContain(before.id);
    expect(later).not.toContain(after.id);
  });

  it('never clears a dismissed group, dismissed before the pass or while its chunks wait', async () => {
    const before = await groupClearing(36, 2);
    ok(await api.dismiss(before.owner, { groupId: before.id }));
    const during = await groupClearing(36, 2);
    const { sent, queue } = memoryQueue();
    const summary = await pass(Date.now(), queue);
    expect(claimedIds(summary)).not.toContain(before.id);
    expect(claimedIds(summary)).toContain(during.id);
    ok(await api.dismiss(during.owner, { groupId: during.id }));
    await drain(sent);
    for (const group of [before, during]) {
      expect(historyCallsOf(group.id)).toEqual([]);
      expect(await msgClearsOf(group.id)).toEqual([]);
    }
  });

  it('clears the members of the moment: a member who joined before the chunk ran is cleared, one who left is not', async () => {
    const group = await groupClearing(3, 2);
    const { sent, queue } = memoryQueue();
    await pass(Date.now(), queue);
    const [joiner] = users('joiner');
    expect((await api.add(group.owner, { groupId: group.id, memberIds: [joiner] })).body).toMatchObject({ code: 200 });
    ok(await api.quit(group.members[0]!, { groupId: group.id }));
    await drain(sent);
    expect(historyCallsOf(group.id).map((c) => c.form.get('fromUserId')).sort()).toEqual([group.owner, group.members[1], joiner].sort());
  });

  it('retries a failed chunk without repeating the chunks that succeeded, and announces the run once', async () => {
    const group = await groupClearing(7, 2 * CLEAR_CHUNK_MEMBERS + 9); // 210 members: 3 chunks
    const { sent, queue } = memoryQueue();
    const summary = await pass(Date.now(), queue);
    expect(summary.claimed.find((c) => c.groupId === group.id)).toMatchObject({ members: 210, chunks: 3 });
    const chunks = sent.filter((c) => c.groupId === group.id);
    sent.length = 0;
    expect(chunks.map((c) => c.chunk)).toEqual([0, 1, 2]);

    // The middle chunk's 50th call fails: that chunk fails as a whole.
    const victim = (await store.clearing.memberIds(group.id, { from: chunks[1]!.from, to: chunks[1]!.to as string }))[49] as string;
    const failing: HistoryCleaner = {
      clean: async (groupId, userId, beforeMs) => {
        if (userId === victim) throw new Error('injected RongCloud failure');
        await cleaner.clean(groupId, userId, beforeMs);
      },
    };
    await work(chunks[0]!);
    await expect(work(chunks[1]!, failing)).rejects.toThrow('injected RongCloud failure');
    await work(chunks[2]!);
    expect(await msgClearsOf(group.id)).toEqual([]);

    // The queue redelivers the failed chunk (it finishes the run), then (a duplicate) the first one.
    expect(await work(chunks[1]!)).toMatchObject({ kind: 'cleared', finished: true });
    expect(await work(chunks[0]!)).toEqual({ kind: 'skipped', reason: 'run done', finished: false });

    const perUser = new Map<string, number>();
    for (const call of historyCallsOf(group.id)) perUser.set(call.form.get('fromUserId') as string, (perUser.get(call.form.get('fromUserId') as string) ?? 0) + 1);
    const chunk1 = new Set(await store.clearing.memberIds(group.id, { from: chunks[1]!.from, to: chunks[1]!.to as string }));
    expect(perUser.size).toBe(210);
    // Outside the failed chunk: one call each. Inside it: the calls made before the failure were
    // made again by the retry; the victim's call was made once, by the retry.
    expect(perUser.get(victim)).toBe(1);
    expect([...perUser].filter(([userId]) => chunk1.has(userId)).every(([, count]) => count === 1 || count === 2)).toBe(true);
    expect([...perUser].filter(([userId]) => !chunk1.has(userId)).every(([, count]) => count === 1)).toBe(true);
    expect(await msgClearsOf(group.id)).toHaveLength(1);
    const item = await groupItem(group.id);
    expect(await getItem(keys.clearRun(group.id, item?.clearRunId as string))).toMatchObject({ status: 'done', calls: 210, chunks: 3 });
  });

  it('finishes a run whose last chunk was marked done but not announced (the worker died in between)', async () => {
    const group = await groupClearing(36, 1);
    const { sent, queue } = memoryQueue();
    await pass(Date.now(), queue);
    const [chunk] = sent.filter((c) => c.groupId === group.id);
    sent.length = 0;
    await store.clearing.chunkDone(group.id, chunk!.runId, chunk!.chunk, 2);
    expect(await work(chunk!)).toEqual({ kind: 'skipped', reason: 'chunk already done', finished: true });
    expect(await work(chunk!)).toEqual({ kind: 'skipped', reason: 'run done', finished: false });
    expect(await msgClearsOf(group.id)).toHaveLength(1);
  });

  it('re-runs a group whose pass died before queueing it, once its claim lease expired, superseding the unfinished run', async () => {
    const group = await groupClearing(3, 2);
    const now = Date.now();
    const broken: ChunkQueue = {
      send: () => Promise.reject(new Error('injected SQS outage')),
    };
    const failedPass = await pass(now, broken);
    expect(failedPass.failed.map((f) => f.groupId)).toContain(group.id);
    const firstRun = (await groupItem(group.id))?.clearRunId as string;

    // Within the lease: not due; after it: claimed again by a new run, the old one cancelled.
    const { sent, queue } = memoryQueue();
    expect(claimedIds(await pass(now + CLEAR_CLAIM_LEASE_MS - 1, queue))).not.toContain(group.id);
    expect(claimedIds(await pass(now + CLEAR_CLAIM_LEASE_MS, queue))).toContain(group.id);
    await drain(sent);
    expect(await getItem(keys.clearRun(group.id, firstRun))).toMatchObject({ status: 'cancelled' });
    expect(historyCallsOf(group.id)).toHaveLength(3);
    expect(await msgClearsOf(group.id)).toHaveLength(1);
  });

  it('the scheduled handler throws when a group failed (so the scheduler retries), after queueing the others', async () => {
    const [good, bad] = await Promise.all([groupClearing(36, 1), groupClearing(36, 1)]);
    const sent: ClearChunk[] = [];
    const queue: ChunkQueue = {
      send: async (chunks) => {
        if (chunks.some((c) => c.groupId === bad.id)) throw new Error('injected SQS outage');
        sent.push(...chunks);
      },
    };
    const handler = createPassHandler({ clearing: store.clearing, queue: () => queue });
    await expect(handler()).rejects.toThrow(new RegExp(bad.id));
    expect(sent.map((c) => c.groupId)).toContain(good.id);
    await drain(sent);
  });
});

describe('regular clear: a 3000-member group', () => {
  it('is cleared within REGULAR_CLEAR_RATE by two workers, resuming after a failed chunk without repeating finished ones', { timeout: 120_000 }, async () => {
    const [owner, ...members] = users('owner', ...Array.from({ length: 2999 }, () => 'm'));
    const id = await createGroup(owner, members);
    ok(await api.setRegularClear(owner, { groupId: id, clearStatus: 3 }));
    const everyone = [owner, ...members];

    const { sent, queue } = memoryQueue();
    const passStarted = Date.now();
    const summary = await pass(passStarted, queue);
    const passMs = Date.now() - passStarted;
    expect(summary.claimed.find((c) => c.groupId === id)).toMatchObject({ members: 3000, chunks: 30 });

    // Two workers, as in AWS (maxConcurrency 2): each its own client holding half of the 100 calls/s.
    const worker = () => {
      const transport = createRongCloudClient({ appKey: fake.appKey, appSecret: fake.appSecret, baseUrls: [fake.url], rateShare: 2, rateOverrides: { historyClean: 100 } });
      return createWorkerHandler({ clearing: store.clearing, transport: async () => transport });
    };
    const pending: { chunk: ClearChunk; receives: number }[] = sent.splice(0).map((chunk) => ({ chunk, receives: 0 }));
    const record = (entry: { chunk: ClearChunk; receives: number }): SQSRecord => ({
      messageId: randomUUID(),
      receiptHandle: randomBytes(8).toString('hex'),
      body: JSON.stringify(entry.chunk),
      attributes: { ApproximateReceiveCount: String(entry.receives), SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:regular-clear-chunks',
      awsRegion: 'us-east-1',
    });
    let failures = 0;
    const consume = async (handler: ReturnType<typeof worker>) => {
      for (let entry = pending.shift(); entry; entry = pending.shift()) {
        entry.receives += 1;
        const r = record(entry);
        const out = await handler({ Records: [r] });
        if (out.batchItemFailures.length > 0) {
          failures += 1;
          pending.push(entry); // the queue makes it visible again
        }
      }
    };
    const callsBefore = fake.calls.length;
    const started = Date.now();
    // Half-way through, RongCloud rejects one call for good (a permanent code: no client retry).
    void fake.waitForCalls(callsBefore + 1500, { path: HISTORY, timeoutMs: 60_000 }).then(() => fake.fail(HISTORY, { status: 200, code: 1002 }));
    await Promise.all([consume(worker()), consume(worker())]);
    const elapsedMs = Date.now() - started;

    const calls = historyCallsOf(id);
    const perUser = new Map<string, number>();
    for (const call of calls) perUser.set(call.form.get('fromUserId') as string, (perUser.get(call.form.get('fromUserId') as string) ?? 0) + 1);
    expect(new Set(perUser.keys())).toEqual(new Set(everyone));
    expect(failures).toBe(1);
    // Only members of the failed chunk (at most 100) were called twice.
    const repeated = [...perUser].filter(([, n]) => n > 1);
    expect(repeated.length).toBeLessThanOrEqual(CLEAR_CHUNK_MEMBERS);
    expect(Math.max(...perUser.values())).toBe(2);

    // The rate, measured at the server. The clients admit at most 100 calls per aligned second
    // (50 each); a call admitted late in a second may arrive in the next one (more so on a loaded
    // machine), but only the calls in flight at the boundary can: at most 2 workers × 10.
    const perSecond = new Map<number, number>();
    for (const call of calls) perSecond.set(Math.floor(call.at / 1000), (perSecond.get(Math.floor(call.at / 1000)) ?? 0) + 1);
    const busiest = Math.max(...perSecond.values());
    const seconds = Math.floor(calls.at(-1)!.at / 1000) - Math.floor(calls[0]!.at / 1000) + 1;
    const overall = calls.length / seconds;
    expect(busiest).toBeLessThanOrEqual(100 + 2 * 10);
    expect(overall).toBeLessThanOrEqual(100);
    expect(await msgClearsOf(id)).toEqual([expect.objectContaining({ members: 3000, clearStatus: 3 })]);
    console.log(
      `3000-member regular clear: pass ${passMs} ms; chunks ${elapsedMs} ms for ${calls.length} calls (${failures} failed chunk retried); ` +
        `busiest second ${busiest} calls, overall ${overall.toFixed(1)} calls/s`,
    );
  });
});

describe('regular clear: run bookkeeping', () => {
  it('marks a chunk done once: a concurrent duplicate gets null', async () => {
    const group = await groupClearing(3, 1);
    const { sent, queue } = memoryQueue();
    await pass(Date.now(), queue);
    const [chunk] = sent.filter((c) => c.groupId === group.id);
    const results = await Promise.all([
      store.clearing.chunkDone(group.id, chunk!.runId, 0, 2),
      store.clearing.chunkDone(group.id, chunk!.runId, 0, 2),
    ]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await getItem(keys.clearRun(group.id, chunk!.runId))).toMatchObject({ calls: 2 });
    await patch(keys.group(group.id), { clearStatus: 0 });
  });
});
