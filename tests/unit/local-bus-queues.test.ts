import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  BatchEntryIdsNotDistinct,
  BatchRequestTooLong,
  EmptyBatchRequest,
  InvalidBatchEntryId,
  SendMessageBatchCommand,
  SendMessageCommand,
  TooManyEntriesInBatchRequest,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deadLetterFile, pendingFile, startLocalBus, type LocalBus, type LocalQueue, type QueueTarget } from '#infra/local/bus.ts';
import { localBusHarness, readJsonl } from '#tests/helpers/local-bus.ts';

const { start, sqsClient, eventBridge: eventBridgeOf, tempDir } = localBusHarness('local-bus-queues-');

const queueUrl = (bus: LocalBus, name: string): string => `${bus.endpoint}/000000000000/${name}`;

const send = (bus: LocalBus, queue: string, body: string, extra: Omit<ConstructorParameters<typeof SendMessageCommand>[0], 'QueueUrl' | 'MessageBody'> = {}) =>
  sqsClient(bus).send(new SendMessageCommand({ QueueUrl: queueUrl(bus, queue), MessageBody: body, ...extra }));

const sendBatch = (bus: LocalBus, queue: string, entries: SendMessageBatchRequestEntry[]) =>
  sqsClient(bus).send(new SendMessageBatchCommand({ QueueUrl: queueUrl(bus, queue), Entries: entries }));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

const records = (calls: readonly SQSEvent[]): SQSRecord[] => calls.flatMap((c) => c.Records);

/** A work queue whose handler records every SQSEvent it gets, and when (Date.now()) each body reached it, then does what `handler` does. */
const recordingQueue = (
  name: string,
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | void> = async () => undefined,
  target: Partial<QueueTarget> = {},
): { queue: LocalQueue; calls: SQSEvent[]; deliveredAt: Map<string, number> } => {
  const calls: SQSEvent[] = [];
  const deliveredAt = new Map<string, number>();
  return {
    calls,
    deliveredAt,
    queue: {
      name,
      target: {
        retryDelayMs: 1,
        ...target,
        handler: async (event) => {
          const now = Date.now();
          calls.push(structuredClone(event));
          for (const r of event.Records) deliveredAt.set(r.body, now);
          return handler(event);
        },
      },
    },
  };
};

describe('SendMessage to a work queue', () => {
  it("delivers the body verbatim and the message attributes to the queue's consumer, and to nobody else", async () => {
    const work = recordingQueue('regular-clear-chunks');
    const ruleCalls: SQSEvent[] = [];
    const dataDir = tempDir();
    const bus = await start({
      dataDir,
      queues: [work.queue],
      rules: [
        {
          name: 'everything',
          pattern: { source: [{ prefix: '' }] },
          target: { kind: 'sqs', queueName: 'everything-queue', handler: async (event) => void ruleCalls.push(event) },
        },
      ],
    });
    // Spacing and key order that JSON.stringify would not reproduce: the body must not be re-encoded.
    const body = '{ "groupId": "g1",  "chunk": 0 }';
    const binary = Buffer.from([0, 1, 2, 250]);
    const sent = await send(bus, 'regular-clear-chunks', body, {
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'chunk' },
        attempt: { DataType: 'Number', StringValue: '3' },
        raw: { DataType: 'Binary', BinaryValue: binary },
      },
    });
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.MD5OfMessageBody).toBe(md5(body));
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    await bus.idle();

    expect(work.calls).toHaveLength(1);
    const [record] = records(work.calls);
    expect(record).toEqual({
      messageId: sent.MessageId,
      receiptHandle: expect.any(String),
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
      },
      messageAttributes: {
        kind: { stringValue: 'chunk', stringListValues: [], binaryListValues: [], dataType: 'String' },
        attempt: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
        raw: { binaryValue: binary.toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: md5(body),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:regular-clear-chunks',
      awsRegion: 'us-east-1',
    });
    expect(ruleCalls).toEqual([]);
    expect(bus.published).toEqual([]);
    expect(existsSync(deadLetterFile(dataDir))).toBe(false);
  });

  it('still appends messages for any other queue URL to the dead-letter file', async () => {
    const work = recordingQueue('work');
    const dataDir = tempDir();
    const bus = await start({ dataDir, queues: [work.queue] });
    await send(bus, 'notifier-dlq', '{"id":"ev-1"}', { MessageAttributes: { reason: { DataType: 'String', StringValue: 'IM rejected' } } });
    await bus.idle();
    expect(work.calls).toEqual([]);
    expect(readJsonl(deadLetterFile(dataDir))).toEqual([expect.objectContaining({ queue: 'notifier-dlq', reason: 'IM rejected', body: { id: 'ev-1' } })]);
  });

  it('refuses what SQS refuses: a bad DelaySeconds, an empty attribute value, a body with a forbidden character', async () => {
    const work = recordingQueue('work');
    const bus = await start({ queues: [work.queue] });
    await expect(send(bus, 'work', 'x', { DelaySeconds: 901 })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringMatching(/DelaySeconds/),
      $metadata: { httpStatusCode: 400 },
    });
    await expect(send(bus, 'work', 'x', { MessageAttributes: { a: { DataType: 'String', StringValue: '' } } })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringMatching(/non-empty/),
    });
    await expect(send(bus, 'work', 'nul \u0000 here')).rejects.toMatchObject({ name: 'InvalidMessageContents', message: expect.stringMatching(/#x0/) });
    await bus.idle();
    expect(work.calls).toEqual([]);
  });
});

describe('SendMessageBatch', () => {
  it('delivers all 10 entries of a batch and answers one Successful per Id with its MessageId and MD5', async () => {
    const work = recordingQueue('work');
    const bus = await start({ queues: [work.queue] });
    const entries = Array.from({ length: 10 }, (_, i) => ({
      Id: `entry_${i}`,
      MessageBody: JSON.stringify({ chunk: i }),
      MessageAttributes: { chunk: { DataType: 'Number', StringValue: String(i) } },
    }));
    const out = await sendBatch(bus, 'work', entries);
    expect(out.Failed ?? []).toEqual([]);
    expect(out.Successful?.map((s) => s.Id)).toEqual(entries.map((e) => e.Id));
    for (const [i, s] of (out.Successful ?? []).entries()) {
      expect(s.MD5OfMessageBody).toBe(md5(entries[i]!.MessageBody));
      expect(s.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    }
    await bus.idle();

    const delivered = records(work.calls);
    expect(delivered).toHaveLength(10);
    expect(delivered.map((r) => r.body).sort()).toEqual(entries.map((e) => e.MessageBody).sort());
    const idOf = new Map(out.Successful?.map((s) => [s.MessageId, s.Id]));
    for (const r of delivered) {
      const entry = entries.find((e) => e.Id === idOf.get(r.messageId));
      expect(r.body).toBe(entry?.MessageBody);
      expect(r.messageAttributes.chunk?.stringValue).toBe(entry?.MessageAttributes.chunk.StringValue);
    }
  });

  it("answers SQS's MD5OfMessageAttributes (published test vectors), for SendMessage and batch entries alike", async () => {
    const work = recordingQueue('work');
    const bus = await start({ queues: [work.queue] });
    const single = await send(bus, 'work', 'a', {
      MessageAttributes: { ordinal: { DataType: 'Number', StringValue: '1' }, category: { DataType: 'String', StringValue: 'test' } },
    });
    expect(single.MD5OfMessageAttributes).toBe('d21ae90c49061e927f57df5f5d72be1f');
    const batch = await sendBatch(bus, 'work', [
      { Id: 'b', MessageBody: 'b', MessageAttributes: { SellerName: { DataType: 'String', StringValue: 'Example Store' } } },
      { Id: 'c', MessageBody: 'c' },
    ]);
    expect(batch.Successful?.map((s) => s.MD5OfMessageAttributes)).toEqual(['cd28f3b68aeee4b2eac9c66f2f694b58', undefined]);
    await bus.idle();
    expect(records(work.calls)).toHaveLength(3);
  });

  it('reports entries SQS refuses in Failed and enqueues the others', async () => {
    const work = recordingQueue('work');
    const bus = await start({ queues: [work.queue] });
    const out = await sendBatch(bus, 'work', [
      { Id: 'ok', MessageBody: 'fine' },
      { Id: 'late', MessageBody: 'too late', DelaySeconds: 901 },
      { Id: 'badAttribute', MessageBody: 'x', MessageAttributes: { n: { DataType: 'Number', StringValue: 'not a number' } } },
    ]);
    expect(out.Successful?.map((s) => s.Id)).toEqual(['ok']);
    expect(out.Failed).toEqual([
      { Id: 'late', SenderFault: true, Code: 'InvalidParameterValue', Message: expect.stringMatching(/DelaySeconds/) },
      { Id: 'badAttribute', SenderFault: true, Code: 'InvalidParameterValue', Message: expect.stringMatching(/number/) },
    ]);
    await bus.idle();
    expect(records(work.calls).map((r) => r.body)).toEqual(['fine']);
  });

  it('rejects an empty batch, 11 entries, duplicate or malformed ids and more than 256 KiB with the errors the SDK models', async () => {
    const work = recordingQueue('work');
    const bus = await start({ queues: [work.queue] });
    const entry = (Id: string, MessageBody = 'x'): SendMessageBatchRequestEntry => ({ Id, MessageBody });

    const empty = sendBatch(bus, 'work', []);
    await expect(empty).rejects.toBeInstanceOf(EmptyBatchRequest);
    await expect(empty).rejects.toMatchObject({ name: 'EmptyBatchRequest', $metadata: { httpStatusCode: 400 } });

    const eleven = sendBatch(bus, 'work', Array.from({ length: 11 }, (_, i) => entry(`e${i}`)));
    await expect(eleven).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
    await expect(eleven).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest', message: expect.stringMatching(/11/) });

    const twice = sendBatch(bus, 'work', [entry('a'), entry('b'), entry('a')]);
    await expect(twice).rejects.toBeInstanceOf(BatchEntryIdsNotDistinct);
    await expect(twice).rejects.toMatchObject({ name: 'BatchEntryIdsNotDistinct', message: expect.stringMatching(/\ba\b/) });

    await expect(sendBatch(bus, 'work', [entry('not ok!')])).rejects.toBeInstanceOf(InvalidBatchEntryId);

    const half = 'x'.repeat(130 * 1024);
    await expect(sendBatch(bus, 'work', [entry('a', half), entry('b', half)])).rejects.toBeInstanceOf(BatchRequestTooLong);

    // The same checks hold for a dead-letter queue's URL.
    await expect(sendBatch(bus, 'some-dlq', [])).rejects.toBeInstanceOf(EmptyBatchRequest);

    await bus.idle();
    expect(work.calls).toEqual([]);
  });

  it("appends a dead-letter queue's batch to the dead-letter file, one line per entry", async () => {
    const dataDir = tempDir();
    const bus = await start({ dataDir });
    const out = await sendBatch(bus, 'notifier-dlq', [
      { Id: 'one', MessageBody: '{"id":"ev-1"}', MessageAttributes: { reason: { DataType: 'String', StringValue: 'IM rejected: 1004' } } },
      { Id: 'two', MessageBody: 'plain text' },
    ]);
    expect(out.Failed ?? []).toEqual([]);
    expect(out.Successful?.map((s) => s.Id)).toEqual(['one', 'two']);
    const dead = readJsonl(deadLetterFile(dataDir));
    expect(dead).toEqual([
      expect.objectContaining({ queue: 'notifier-dlq', reason: 'IM rejected: 1004', body: { id: 'ev-1' }, messageId: out.Successful?.[0]?.MessageId }),
      expect.objectContaining({ queue: 'notifier-dlq', reason: 'sent to DLQ', body: 'plain text', messageId: out.Successful?.[1]?.MessageId }),
    ]);
  });
});

describe('work queue delivery', () => {
  it.each([
    { batchSize: 1, maxConcurrency: 2 }, // regular-clear's settings
    { batchSize: 3, maxConcurrency: 2 },
  ])('never hands more than batchSize records to one call, nor runs more than maxConcurrency calls at once ($batchSize, $maxConcurrency)', async (settings) => {
    let running = 0;
    let peak = 0;
    const work = recordingQueue(
      'work',
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(15);
        running -= 1;
      },
      settings,
    );
    const bus = await start({ queues: [work.queue] });
    await sendBatch(bus, 'work', Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` })));
    await bus.idle();
    const sizes = work.calls.map((c) => c.Records.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBe(settings.batchSize);
    expect(peak).toBe(settings.maxConcurrency);
    expect(new Set(records(work.calls).map((r) => r.body)).size).toBe(10);
  });

  it('retries a failing message with backoff and dead-letters it after maxReceiveCount, while the rest of its batch succeeds', async () => {
    const logs: Record<string, unknown>[] = [];
    const poisonReceives: number[] = [];
    const work = recordingQueue(
      'work',
      async (event) => {
        const failures = event.Records.filter((r) => r.body.includes('poison') || r.body === 'not json');
        if (failures.some((r) => r.body.includes('poison'))) poisonReceives.push(performance.now());
        return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { maxReceiveCount: 3, retryDelayMs: 20 },
    );
    const dataDir = tempDir();
    const bus = await start({ dataDir, queues: [work.queue], log: (e) => logs.push(e) });
    const out = await sendBatch(bus, 'work', [
      { Id: 'good1', MessageBody: '{"n":1}' },
      { Id: 'poison', MessageBody: '{"poison":true}', MessageAttributes: { groupId: { DataType: 'String', StringValue: 'g1' } } },
      { Id: 'text', MessageBody: 'not json' },
      { Id: 'good2', MessageBody: '{"n":2}' },
    ]);
    const idOf = (id: string): string | undefined => out.Successful?.find((s) => s.Id === id)?.MessageId;
    await bus.idle();

    const receives = new Map<string, string[]>();
    for (const r of records(work.calls)) receives.set(r.body, [...(receives.get(r.body) ?? []), r.attributes.ApproximateReceiveCount]);
    expect(Object.fromEntries(receives)).toEqual({
      '{"n":1}': ['1'],
      '{"n":2}': ['1'],
      '{"poison":true}': ['1', '2', '3'],
      'not json': ['1', '2', '3'],
    });
    // Backoff: 20 ms, then 40 ms (timer granularity tolerance of a couple of ms).
    expect(poisonReceives[1]! - poisonReceives[0]!).toBeGreaterThanOrEqual(18);
    expect(poisonReceives[2]! - poisonReceives[1]!).toBeGreaterThanOrEqual(38);

    const dead = readJsonl(deadLetterFile(dataDir));
    expect(dead).toHaveLength(2);
    const poison = dead.find((d) => d.messageId === idOf('poison'));
    expect(poison).toEqual({
      time: expect.any(String),
      queue: 'work',
      reason: 'maxReceiveCount exceeded',
      lastError: 'reported in batchItemFailures',
      body: { poison: true },
      attributes: { groupId: { DataType: 'String', StringValue: 'g1' } },
      receiveCount: 3,
      messageId: idOf('poison'),
    });
    expect(dead.find((d) => d.messageId === idOf('text'))).toMatchObject({ queue: 'work', body: 'not json', receiveCount: 3 });

    const warnings = logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatchObject({ message: 'local bus delivery failed', queue: 'work', receiveCount: 1, retryInMs: 20 });
    expect(warnings[0]).not.toHaveProperty('rule');
    const errors = logs.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ message: 'local bus dead-lettered a message', queue: 'work', reason: 'maxReceiveCount exceeded', receiveCount: 3 });
  });

  it('holds a message sent with DelaySeconds until the delay is over, and idle() waits for it', async () => {
    const work = recordingQueue('work');
    const bus = await start({ queues: [work.queue] });
    const sentAt = Date.now();
    await sendBatch(bus, 'work', [
      { Id: 'later', MessageBody: 'later', DelaySeconds: 1 },
      { Id: 'now', MessageBody: 'now' },
    ]);
    await bus.idle();
    expect(records(work.calls).map((r) => r.body)).toEqual(['now', 'later']);
    expect(work.deliveredAt.get('now')! - sentAt).toBeLessThan(500);
    // Timers may fire a few milliseconds early against the wall clock.
    expect(work.deliveredAt.get('later')! - sentAt).toBeGreaterThanOrEqual(995);
  });

  it('idle() waits until every queued and in-flight queue message is handled', async () => {
    let finished = 0;
    const slow = recordingQueue(
      'slow',
      async () => {
        await sleep(20);
        finished += 1;
      },
      { batchSize: 1, maxConcurrency: 1 },
    );
    const bus = await start({ queues: [slow.queue] });
    await sendBatch(bus, 'slow', [
      { Id: 'a', MessageBody: 'a' },
      { Id: 'b', MessageBody: 'b' },
      { Id: 'c', MessageBody: 'c' },
    ]);
    await bus.idle();
    expect(finished).toBe(3);
  });

  it('idle() rejects after its timeout while a queue delivery hangs, naming the queue', async () => {
    const stuck = recordingQueue('stuck', () => new Promise<void>(() => undefined));
    const bus = await start({ queues: [stuck.queue] });
    await send(bus, 'stuck', 'forever');
    await expect(bus.idle(30)).rejects.toThrow(/not idle after 30 ms.*queue stuck: 0 queued, 1 in flight/);
  });
});

describe('stop and restart', () => {
  it('keeps pending queue messages in bus-pending.jsonl and delivers them to the same queue after a restart', async () => {
    const dataDir = tempDir();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = recordingQueue('work', () => gate, { batchSize: 1, maxConcurrency: 1 });
    const bus = await startLocalBus({ dataDir, rules: [], queues: [first.queue] });
    const attributes = { groupId: { DataType: 'String', StringValue: 'g1' } };
    const out = await sendBatch(bus, 'work', [
      { Id: 'm1', MessageBody: 'm1' },
      { Id: 'm2', MessageBody: 'm2', MessageAttributes: attributes },
      { Id: 'm3', MessageBody: '{"n":3}' },
      { Id: 'delayed', MessageBody: 'delayed', DelaySeconds: 1 },
    ]);
    const idOf = (id: string): string | undefined => out.Successful?.find((s) => s.Id === id)?.MessageId;
    while (first.calls.length === 0) await sleep(1);

    const stopping = bus.stop(2_000);
    release(); // the in-flight delivery completes during the drain
    await stopping;
    expect(records(first.calls).map((r) => r.body)).toEqual(['m1']);
    const pending = readJsonl(pendingFile(dataDir));
    expect(pending.map((p) => [p.queue, p.body, p.receiveCount, p.messageId])).toEqual([
      ['work', 'm2', 0, idOf('m2')],
      ['work', '{"n":3}', 0, idOf('m3')],
      ['work', 'delayed', 0, idOf('delayed')],
    ]);
    expect(pending[0]?.attributes).toEqual(attributes);
    const visibleAt = pending[2]?.visibleAt as number;
    expect(visibleAt).toBeGreaterThan(Date.now());

    const second = recordingQueue('work');
    const restarted = await start({ dataDir, queues: [second.queue] });
    expect(existsSync(pendingFile(dataDir))).toBe(false);
    await restarted.idle();
    const delivered = records(second.calls);
    expect(delivered.map((r) => [r.body, r.messageId])).toEqual([
      ['m2', idOf('m2')],
      ['{"n":3}', idOf('m3')],
      ['delayed', idOf('delayed')],
    ]);
    expect(delivered[0]?.messageAttributes.groupId).toEqual({ stringValue: 'g1', stringListValues: [], binaryListValues: [], dataType: 'String' });
    // The rest of DelaySeconds survived the restart (timer tolerance of a few milliseconds).
    expect(second.deliveredAt.get('delayed')!).toBeGreaterThanOrEqual(visibleAt - 5);
    expect(second.deliveredAt.get('m2')!).toBeLessThan(visibleAt);
  });

  it('dead-letters pending messages whose queue no longer exists', async () => {
    const dataDir = tempDir();
    writeFileSync(pendingFile(dataDir), `${JSON.stringify({ queue: 'gone', body: 'x', receiveCount: 0 })}\n`);
    const bus = await start({ dataDir });
    await bus.idle();
    expect(existsSync(pendingFile(dataDir))).toBe(false);
    expect(readJsonl(deadLetterFile(dataDir))).toEqual([
      expect.objectContaining({ queue: 'bus-pending', reason: 'pending message for unknown queue "gone"', body: expect.objectContaining({ queue: 'gone', body: 'x' }) }),
    ]);
  });

  it("refuses a work queue named like a rule's queue, twice the same queue, or a name no QueueUrl can end with", async () => {
    const handler = async (): Promise<void> => undefined;
    await expect(
      startLocalBus({
        dataDir: tempDir(),
        rules: [{ name: 'notifier', pattern: { source: ['x'] }, target: { kind: 'sqs', queueName: 'notifier-queue', handler } }],
        queues: [{ name: 'notifier-queue', target: { handler } }],
      }),
    ).rejects.toThrow(/queue "notifier-queue" is already the queue of rule "notifier"/);
    await expect(
      startLocalBus({
        dataDir: tempDir(),
        rules: [],
        queues: [
          { name: 'work', target: { handler } },
          { name: 'work', target: { handler } },
        ],
      }),
    ).rejects.toThrow(/duplicate queue name "work"/);
    await expect(startLocalBus({ dataDir: tempDir(), rules: [], queues: [{ name: 'a/b', target: { handler } }] })).rejects.toThrow(/queue name "a\/b" is not valid/);
    await expect(startLocalBus({ dataDir: tempDir(), rules: [], queues: [{ name: 'q', target: { handler, batchSize: 0 } }] })).rejects.toThrow(/queue "q" batchSize/);
  });
});

describe('rules and work queues on one bus', () => {
  it('keep their own deliveries: PutEvents reaches rules only, SendMessage the queue only', async () => {
    const work = recordingQueue('work');
    const ruleCalls: SQSEvent[] = [];
    const bus = await start({
      queues: [work.queue],
      rules: [{ name: 'r', pattern: { source: ['sealtalk.group'] }, target: { kind: 'sqs', queueName: 'r-queue', handler: async (e) => void ruleCalls.push(e) } }],
    });
    await eventBridgeOf(bus).send(new PutEventsCommand({ Entries: [{ Source: 'sealtalk.group', DetailType: 'GroupCreated', Detail: '{"n":1}' }] }));
    await send(bus, 'work', 'chunk');
    await bus.idle();
    expect(records(ruleCalls).map((r) => (JSON.parse(r.body) as { detail: unknown }).detail)).toEqual([{ n: 1 }]);
    expect(records(work.calls).map((r) => r.body)).toEqual(['chunk']);
  });
});
