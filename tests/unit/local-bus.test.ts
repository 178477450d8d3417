import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deadLetterFile, pendingFile, startLocalBus, type LocalBus, type LocalRule } from '#infra/local/bus.ts';
import { localBusHarness, readJsonl } from '#tests/helpers/local-bus.ts';

type Envelope = EventBridgeEvent<string, Record<string, unknown>>;

const { start, sqsClient, eventBridge, tempDir } = localBusHarness('local-bus-');

const entry = (detailType: string, detail: Record<string, unknown>, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'sealtalk.group',
  DetailType: detailType,
  Detail: JSON.stringify(detail),
  ...extra,
});

const put = (bus: LocalBus, entries: PutEventsRequestEntry[]) => eventBridge(bus).send(new PutEventsCommand({ Entries: entries }));

const bodies = (event: SQSEvent): Envelope[] => event.Records.map((r) => JSON.parse(r.body) as Envelope);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An SQS rule on `sealtalk.group` events whose handler records every SQSEvent it gets. */
const recordingRule = (
  name: string,
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | void> = async () => undefined,
  target: Partial<Extract<LocalRule['target'], { kind: 'sqs' }>> = {},
): { rule: LocalRule; calls: SQSEvent[] } => {
  const calls: SQSEvent[] = [];
  return {
    calls,
    rule: {
      name,
      pattern: { source: ['sealtalk.group'] },
      target: {
        kind: 'sqs',
        queueName: `${name}-queue`,
        retryDelayMs: 1,
        ...target,
        handler: async (event) => {
          calls.push(structuredClone(event));
          return handler(event);
        },
      },
    },
  };
};

describe('PutEvents through the real EventBridgeClient', () => {
  it('delivers an entry to a matching SQS rule as a Lambda-shaped SQSEvent carrying the EventBridge envelope', async () => {
    const groups = recordingRule('group-created');
    groups.rule.pattern = { source: ['sealtalk.group'], 'detail-type': ['GroupCreated'] };
    const users = recordingRule('user-events');
    users.rule.pattern = { source: ['sealtalk.user'] };
    const bus = await start({ rules: [groups.rule, users.rule] });

    const detail = { groupId: 'g1', name: 'Friends', memberIds: ['alice'], timestamp: 1 };
    const out = await put(bus, [entry('GroupCreated', detail, { Time: new Date('2026-03-10T08:21:05.678Z') })]);
    expect(out.FailedEntryCount).toBe(0);
    const eventId = out.Entries?.[0]?.EventId;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    await bus.idle();

    expect(users.calls).toEqual([]);
    expect(groups.calls).toHaveLength(1);
    const records = groups.calls[0]?.Records ?? [];
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record).toMatchObject({
      messageAttributes: {},
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:group-created-queue',
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1', SenderId: 'local' },
    });
    expect(record.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.receiptHandle).toEqual(expect.any(String));
    expect(record.md5OfBody).toBe(createHash('md5').update(record.body).digest('hex'));
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(Number(record.attributes.SentTimestamp));
    expect(JSON.parse(record.body)).toEqual({
      version: '0',
      id: eventId,
      'detail-type': 'GroupCreated',
      source: 'sealtalk.group',
      account: '000000000000',
      time: '2026-03-10T08:21:05Z',
      region: 'us-east-1',
      resources: [],
      detail,
    });
    expect(bus.published).toEqual([JSON.parse(record.body)]);
  });

  it('routes one event to every matching rule, SQS and Lambda alike, and batches the entries of one request', async () => {
    const sqs = recordingRule('sqs-rule');
    const lambdaCalls: Envelope[] = [];
    const bus = await start({
      rules: [
        sqs.rule,
        {
          name: 'lambda-rule',
          pattern: { 'detail-type': ['GroupRenamed'] },
          target: { kind: 'lambda', handler: async (event) => void lambdaCalls.push(event as Envelope) },
        },
      ],
    });
    const out = await put(bus, [entry('GroupCreated', { n: 1 }), entry('GroupRenamed', { n: 2 }, { Resources: ['arn:aws:x'] })]);
    expect(out.FailedEntryCount).toBe(0);
    await bus.idle();
    expect(sqs.calls).toHaveLength(1);
    expect(bodies(sqs.calls[0]!).map((e) => e.detail.n)).toEqual([1, 2]);
    expect(lambdaCalls).toHaveLength(1);
    expect(lambdaCalls[0]).toMatchObject({ 'detail-type': 'GroupRenamed', detail: { n: 2 }, resources: ['arn:aws:x'], id: out.Entries?.[1]?.EventId });
  });

  it('reports malformed entries and unknown buses per entry, in order, and publishes only the good ones', async () => {
    const rule = recordingRule('all');
    const bus = await start({ rules: [rule.rule] });
    const out = await put(bus, [
      entry('GroupCreated', { n: 1 }),
      { Source: 'sealtalk.group', DetailType: 'GroupCreated', Detail: 'not json' },
      { Source: 'sealtalk.group', DetailType: 'GroupCreated', Detail: '[1,2]' },
      { DetailType: 'GroupCreated', Detail: '{}' },
      { Source: 'sealtalk.group', Detail: '{}' },
      { Source: 'sealtalk.group', DetailType: 'GroupCreated' },
      entry('GroupCreated', { n: 2 }, { EventBusName: 'other-bus' }),
      entry('GroupCreated', { n: 3 }, { EventBusName: 'default' }),
      entry('GroupCreated', { n: 4 }, { EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/default' }),
    ]);
    expect(out.FailedEntryCount).toBe(6);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'MalformedDetail',
      'MalformedDetail',
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'ResourceNotFoundException',
      'ok',
      'ok',
    ]);
    expect(out.Entries?.[3]?.ErrorMessage).toMatch(/Source/);
    expect(out.Entries?.[6]?.ErrorMessage).toMatch(/other-bus/);
    await bus.idle();
    expect(bus.published.map((e) => e.detail)).toEqual([{ n: 1 }, { n: 3 }, { n: 4 }]);
    expect(rule.calls.flatMap(bodies).map((e) => e.detail.n)).toEqual([1, 3, 4]);
  });

  it('rejects more than 10 entries, or more than 256 KB of entries, with a ValidationException', async () => {
    const rule = recordingRule('all');
    const bus = await start({ rules: [rule.rule] });
    const eleven = Array.from({ length: 11 }, (_, i) => entry('GroupCreated', { i }));
    await expect(put(bus, eleven)).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    const big = 'x'.repeat(130 * 1024);
    await expect(put(bus, [entry('GroupCreated', { big }), entry('GroupCreated', { big })])).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/over the limit/),
    });
    expect(bus.published).toEqual([]);
    expect(rule.calls).toEqual([]);
  });

  it('fails the entries the failEntries hook picks with InternalFailure, and publishes the rest', async () => {
    const rule = recordingRule('all');
    const bus = await start({ rules: [rule.rule] });
    const seen: { entry: PutEventsRequestEntry; index: number }[] = [];
    bus.failEntries = (e, index) => {
      seen.push({ entry: e, index });
      return index === 1;
    };
    const time = new Date('2026-01-02T03:04:05Z');
    const out = await put(bus, [entry('GroupCreated', { n: 0 }), entry('GroupCreated', { n: 1 }, { Time: time }), entry('GroupCreated', { n: 2 })]);
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[1]).toMatchObject({ ErrorCode: 'InternalFailure' });
    expect(out.Entries?.[0]?.EventId).toBeDefined();
    expect(seen.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(seen[1]?.entry).toMatchObject({ Source: 'sealtalk.group', DetailType: 'GroupCreated', Detail: '{"n":1}', Time: time });
    await bus.idle();
    expect(bus.published.map((e) => e.detail)).toEqual([{ n: 0 }, { n: 2 }]);

    bus.failEntries = undefined;
    const retried = await put(bus, [entry('GroupCreated', { n: 1 })]);
    expect(retried.FailedEntryCount).toBe(0);
  });

  it('accepts unsigned raw JSON requests (ISO Time) and answers unknown operations with UnknownOperationException', async () => {
    const rule = recordingRule('all');
    const bus = await start({ rules: [rule.rule] });
    const raw = await fetch(bus.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: JSON.stringify({ Entries: [{ Source: 'sealtalk.group', DetailType: 'GroupCreated', Detail: '{"n":1}', Time: '2026-05-06T07:08:09Z' }] }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await raw.json()).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    expect(bus.published[0]?.time).toBe('2026-05-06T07:08:09Z');

    const unknown = await fetch(bus.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutRule' },
      body: '{}',
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });

    const notJson = await fetch(bus.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ __type: 'SerializationException' });
  });
});

describe('SQS targets', () => {
  it('redelivers only the messages reported in batchItemFailures, with ApproximateReceiveCount 2', async () => {
    const rule = recordingRule('partial', async (event) => {
      const failures = event.Records.filter((r) => r.attributes.ApproximateReceiveCount === '1' && (JSON.parse(r.body) as Envelope).detail.n === 2);
      return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    const bus = await start({ rules: [rule.rule] });
    await put(bus, [entry('GroupCreated', { n: 1 }), entry('GroupCreated', { n: 2 }), entry('GroupCreated', { n: 3 })]);
    await bus.idle();
    expect(rule.calls).toHaveLength(2);
    expect(bodies(rule.calls[0]!).map((e) => e.detail.n)).toEqual([1, 2, 3]);
    const retry = rule.calls[1]!.Records;
    expect(retry).toHaveLength(1);
    expect((JSON.parse(retry[0]!.body) as Envelope).detail.n).toBe(2);
    expect(retry[0]!.attributes.ApproximateReceiveCount).toBe('2');
    expect(retry[0]!.messageId).toBe(rule.calls[0]!.Records[1]!.messageId);
    expect(retry[0]!.attributes.ApproximateFirstReceiveTimestamp).toBe(rule.calls[0]!.Records[1]!.attributes.ApproximateFirstReceiveTimestamp);
    expect(retry[0]!.receiptHandle).not.toBe(rule.calls[0]!.Records[1]!.receiptHandle);
  });

  it('retries the whole batch when the handler throws, or reports an unknown itemIdentifier', async () => {
    // Decided by the lowest receive in the batch: no message succeeds before its third receive.
    const rule = recordingRule('whole-batch', async (event) => {
      const receive = Math.min(...event.Records.map((r) => Number(r.attributes.ApproximateReceiveCount)));
      if (receive === 1) throw new Error('crash');
      if (receive === 2) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
      return { batchItemFailures: [] };
    });
    const bus = await start({ rules: [rule.rule] });
    await put(bus, [entry('GroupCreated', { n: 1 }), entry('GroupCreated', { n: 2 })]);
    await bus.idle();
    const receivesOf = new Map<string, string[]>();
    for (const record of rule.calls.flatMap((c) => c.Records)) {
      receivesOf.set(record.messageId, [...(receivesOf.get(record.messageId) ?? []), record.attributes.ApproximateReceiveCount]);
    }
    // Neither message could succeed before its third receive: the crash failed both at their
    // first, the unknown identifier both at their second. (Each message's retry has its own timer,
    // so a later batch may pair receives 2 and 3 and fail once more: receives stay consecutive.)
    const sequences = [...receivesOf.values()];
    expect(sequences).toHaveLength(2);
    for (const receives of sequences) {
      expect(receives.length).toBeGreaterThanOrEqual(3);
      expect(receives).toEqual(receives.map((_, i) => String(i + 1)));
    }
  });

  it('dead-letters a message that keeps failing after maxReceiveCount receives, without holding up the others', async () => {
    const logs: Record<string, unknown>[] = [];
    const receives: number[] = [];
    const rule = recordingRule(
      'poisoned',
      async (event) => {
        const e = bodies(event)[0]!;
        if (e.detail.poison) {
          receives.push(performance.now());
          throw new Error('boom');
        }
      },
      { batchSize: 1, maxReceiveCount: 3, retryDelayMs: 20 },
    );
    const dataDir = tempDir();
    const bus = await start({ dataDir, rules: [rule.rule], log: (e) => logs.push(e) });
    const out = await put(bus, [entry('GroupCreated', { n: 1 }), entry('GroupCreated', { poison: true }), entry('GroupCreated', { n: 3 })]);
    const poisonId = out.Entries?.[1]?.EventId;
    await bus.idle();

    const deliveries = rule.calls.flatMap(bodies).map((e) => (e.detail.poison ? 'poison' : e.detail.n));
    expect(deliveries.filter((d) => d === 'poison')).toHaveLength(3);
    expect(deliveries.filter((d) => d !== 'poison').sort()).toEqual([1, 3]);
    // Backoff: 20 ms, then 40 ms (timer granularity tolerance of a couple of ms).
    expect(receives[1]! - receives[0]!).toBeGreaterThanOrEqual(18);
    expect(receives[2]! - receives[1]!).toBeGreaterThanOrEqual(38);

    const dead = readJsonl(deadLetterFile(dataDir));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      queue: 'poisoned-queue',
      reason: 'maxReceiveCount exceeded',
      lastError: 'Error: boom',
      receiveCount: 3,
      body: { id: poisonId, detail: { poison: true } },
    });
    expect(typeof dead[0]?.time).toBe('string');

    const failures = logs.filter((l) => l.level === 'warn');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ message: expect.stringMatching(/^local bus /), rule: 'poisoned', eventId: poisonId, detailType: 'GroupCreated', receiveCount: 1 });
    const errors = logs.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: expect.stringMatching(/^local bus .*dead-letter/), rule: 'poisoned', eventId: poisonId, receiveCount: 3 });
    expect(logs.filter((l) => l.level === 'debug')).toHaveLength(2);
  });

  it('never runs more than maxConcurrency invocations at once', async () => {
    let running = 0;
    let peak = 0;
    const rule = recordingRule(
      'throttled',
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(15);
        running -= 1;
      },
      { batchSize: 1, maxConcurrency: 2 },
    );
    const bus = await start({ rules: [rule.rule] });
    await put(bus, Array.from({ length: 10 }, (_, n) => entry('GroupCreated', { n })));
    await bus.idle();
    expect(rule.calls).toHaveLength(10);
    expect(peak).toBe(2);
  });

  it('hands a new message to an idle handler within a few milliseconds', async () => {
    let deliveredAt = 0;
    const rule = recordingRule('fast', async () => {
      deliveredAt = performance.now();
    });
    const bus = await start({ rules: [rule.rule] });
    await put(bus, [entry('GroupCreated', { warmup: true })]);
    await bus.idle();
    const before = performance.now();
    await put(bus, [entry('GroupCreated', { n: 1 })]);
    await bus.idle();
    expect(deliveredAt - before).toBeLessThan(100);
    expect(rule.calls).toHaveLength(2);
  });

  it('idle() rejects after its timeout while a delivery hangs', async () => {
    const rule = recordingRule('hanging', () => new Promise<void>(() => undefined));
    const bus = await start({ rules: [rule.rule] });
    await put(bus, [entry('GroupCreated', { n: 1 })]);
    await expect(bus.idle(30)).rejects.toThrow(/not idle after 30 ms.*hanging: 0 queued, 1 in flight/);
  });
});

describe('Lambda targets', () => {
  it('retries a failing invocation retryAttempts times, then dead-letters the event', async () => {
    const calls: Envelope[] = [];
    const dataDir = tempDir();
    const bus = await start({
      dataDir,
      rules: [
        {
          name: 'async-fn',
          pattern: { source: ['sealtalk.group'] },
          target: {
            kind: 'lambda',
            retryAttempts: 2,
            retryDelayMs: 1,
            handler: async (event) => {
              calls.push(event as Envelope);
              throw new Error('always');
            },
          },
        },
      ],
    });
    const out = await put(bus, [entry('GroupRenamed', { groupId: 'g1' })]);
    await bus.idle();
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.id === out.Entries?.[0]?.EventId && c.detail.groupId === 'g1')).toBe(true);
    expect(readJsonl(deadLetterFile(dataDir))).toEqual([
      expect.objectContaining({ rule: 'async-fn', reason: 'retryAttempts exhausted', lastError: 'Error: always', receiveCount: 3, body: expect.objectContaining({ id: out.Entries?.[0]?.EventId }) }),
    ]);
  });

  it('stops retrying once an invocation succeeds', async () => {
    let attempts = 0;
    const dataDir = tempDir();
    const bus = await start({
      dataDir,
      rules: [
        {
          name: 'flaky-fn',
          pattern: { source: ['sealtalk.group'] },
          target: {
            kind: 'lambda',
            retryDelayMs: 1,
            handler: async () => {
              attempts += 1;
              if (attempts === 1) throw new Error('once');
            },
          },
        },
      ],
    });
    await put(bus, [entry('GroupRenamed', { groupId: 'g1' })]);
    await bus.idle();
    expect(attempts).toBe(2);
    expect(existsSync(deadLetterFile(dataDir))).toBe(false);
  });
});

describe('SendMessage through the real SQSClient', () => {
  it('appends the message to the dead-letter file with its queue, reason and parsed body', async () => {
    const dataDir = tempDir();
    const bus = await start({ dataDir, rules: [] });
    const sqs = sqsClient(bus);
    const envelope = { version: '0', id: 'ev-1', 'detail-type': 'GroupCreated', source: 'sealtalk.group', detail: { groupId: 'g1' } };
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: `${bus.endpoint}/000000000000/notifier-dlq`,
        MessageBody: JSON.stringify(envelope),
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'IM rejected: 1004' } },
      }),
    );
    expect(sent.MessageId).toEqual(expect.any(String));
    expect(sent.MD5OfMessageBody).toBe(createHash('md5').update(JSON.stringify(envelope)).digest('hex'));
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);

    await sqs.send(new SendMessageCommand({ QueueUrl: `${bus.endpoint}/000000000000/other-dlq`, MessageBody: 'plain text' }));

    const dead = readJsonl(deadLetterFile(dataDir));
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({
      queue: 'notifier-dlq',
      reason: 'IM rejected: 1004',
      body: envelope,
      attributes: { reason: { DataType: 'String', StringValue: 'IM rejected: 1004' } },
    });
    expect(dead[1]).toMatchObject({ queue: 'other-dlq', reason: 'sent to DLQ', body: 'plain text' });
  });

  it('answers other SQS operations with UnknownOperationException', async () => {
    const bus = await start({ rules: [] });
    await expect(sqsClient(bus).send(new ReceiveMessageCommand({ QueueUrl: `${bus.endpoint}/000000000000/q` }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe('stop and restart', () => {
  it('keeps queued messages in bus-pending.jsonl and delivers them after a restart on the same dataDir', async () => {
    const dataDir = tempDir();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = recordingRule('slow', () => gate, { batchSize: 1, maxConcurrency: 1 });
    const bus = await startLocalBus({ dataDir, rules: [first.rule] });
    await put(bus, [entry('GroupCreated', { n: 1 }), entry('GroupCreated', { n: 2 }), entry('GroupCreated', { n: 3 })]);
    while (first.calls.length === 0) await sleep(1);

    const stopping = bus.stop(2_000);
    release(); // the in-flight delivery completes during the drain
    await stopping;
    expect(first.calls).toHaveLength(1);
    const pending = readJsonl(pendingFile(dataDir));
    expect(pending.map((p) => [p.rule, (p.envelope as Envelope).detail.n, p.receiveCount])).toEqual([
      ['slow', 2, 0],
      ['slow', 3, 0],
    ]);

    const second = recordingRule('slow');
    const restarted = await start({ dataDir, rules: [second.rule] });
    expect(existsSync(pendingFile(dataDir))).toBe(false);
    await restarted.idle();
    expect(second.calls.flatMap(bodies).map((e) => e.detail.n)).toEqual([2, 3]);
    expect(second.calls.flatMap(bodies).map((e) => e.id)).toEqual(pending.map((p) => (p.envelope as Envelope).id));
  });

  it('keeps in-flight deliveries and retries the drain does not finish, with their receive counts', async () => {
    const dataDir = tempDir();
    const rule = recordingRule(
      'stuck',
      async (event) => {
        if (bodies(event)[0]!.detail.n === 1) return new Promise<void>(() => undefined);
        throw new Error('retry me');
      },
      { batchSize: 1, maxConcurrency: 2, retryDelayMs: 10_000 },
    );
    const bus = await startLocalBus({ dataDir, rules: [rule.rule] });
    await put(bus, [entry('GroupCreated', { n: 1 }), entry('GroupCreated', { n: 2 })]);
    while (rule.calls.length < 2) await sleep(1);
    await sleep(5);
    await bus.stop(20);
    const pending = readJsonl(pendingFile(dataDir));
    expect(pending.map((p) => [(p.envelope as Envelope).detail.n, p.receiveCount, p.lastError])).toEqual(
      expect.arrayContaining([
        [1, 1, undefined],
        [2, 1, 'Error: retry me'],
      ]),
    );
    expect(pending).toHaveLength(2);
  });

  it('dead-letters pending messages whose rule no longer exists', async () => {
    const dataDir = tempDir();
    writeFileSync(pendingFile(dataDir), `${JSON.stringify({ rule: 'gone', envelope: { id: 'e1', detail: {} }, receiveCount: 0 })}\nnot json\n`);
    const bus = await start({ dataDir, rules: [] });
    await bus.idle();
    expect(existsSync(pendingFile(dataDir))).toBe(false);
    expect(readJsonl(deadLetterFile(dataDir)).map((d) => d.reason)).toEqual(['pending message for unknown rule "gone"', 'unreadable bus-pending.jsonl line']);
  });

  it('refuses a rule with a malformed pattern or a duplicate name', async () => {
    const target = { kind: 'sqs', queueName: 'q', handler: async () => undefined } as const;
    await expect(startLocalBus({ dataDir: tempDir(), rules: [{ name: 'bad', pattern: { source: 'x' }, target }] })).rejects.toThrow(/rule "bad".*not valid/);
    await expect(
      startLocalBus({
        dataDir: tempDir(),
        rules: [
          { name: 'twice', pattern: { source: ['x'] }, target },
          { name: 'twice', pattern: { source: ['y'] }, target },
        ],
      }),
    ).rejects.toThrow(/duplicate rule name "twice"/);
  });
});
