import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalBus, type LocalBus } from '#infra/local/bus.ts';
import { startStreamRelay, type StreamRelay } from '#infra/local/stream-relay.ts';
import { OUTBOX_STREAM_FILTER } from '#lib/events/outbox.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { useOwnTable } from '#tests/helpers/pipeline.ts';

/**
 * The relay on DynamoDB Local's real stream: which records reach it (the event source's filter),
 * and what it puts on a bus that speaks PutEvents (the local bus, through the real SDK client),
 * including entries PutEvents refuses.
 */

type RelayHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

let bus: LocalBus;
let dataDir: string;
let stream: StreamRelay;
let relay: RelayHandler;
/** Every record the filtered stream handed over, in order. */
const seen: DynamoDBRecord[] = [];

beforeAll(async () => {
  const { tableName, ddb } = await useOwnTable();
  dataDir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  bus = await startLocalBus({ rules: [], dataDir, busName: 'relay-test-bus' });
  Object.assign(process.env, { EVENT_BUS_NAME: 'relay-test-bus', AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint });
  relay = ((await import('#functions/outbox-relay.ts')) as { handler: RelayHandler }).handler;
  stream = await startStreamRelay(
    {
      endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
      tableName,
      filter: OUTBOX_STREAM_FILTER as unknown as Record<string, unknown>,
      startAt: 'oldest',
      handler: async (event) => {
        seen.push(...event.Records);
        return { batchItemFailures: [] };
      },
    },
    ddb,
  );
});
afterAll(async () => {
  await stream?.stop();
  await bus?.stop(0);
  rmSync(dataDir, { recursive: true, force: true });
});
beforeEach(() => {
  bus.failEntries = undefined;
});

/** The outbox records of `groupId` the filtered stream carried. */
const recordsOf = (groupId: string) => seen.filter((r) => r.dynamodb?.NewImage?.pk?.S === `OUTBOX#${groupId}`);
const publishedFor = (groupId: string) => bus.published.filter((e) => (e.detail as { groupId?: string }).groupId === groupId);

describe('the outbox stream filter', () => {
  it('lets through only inserts of outbox items: no group, member, notice or profile writes, no updates', async () => {
    const owner = uniqueUserId('owner');
    const carol = uniqueUserId('carol');
    await api.userGroups({ sub: carol, group_verify: '0' });
    const groupId = await createGroup({ sub: owner, name: 'Owner' }, [uniqueUserId('bob'), carol]);
    await api.rename(owner, { groupId, name: 'Renamed' });
    await stream.caughtUp();
    expect(seen.length).toBeGreaterThan(0);
    for (const record of seen) {
      expect(record.eventName).toBe('INSERT');
      expect(record.dynamodb?.NewImage?.kind?.S).toBe('event');
    }
    expect(recordsOf(groupId).map((r) => r.dynamodb?.NewImage?.detailType?.S)).toEqual(['GroupCreated', 'GroupInvited', 'GroupRenamed']);
  });
});

describe('the relay', () => {
  it('publishes each event with source sealtalk.group, the event name as detail-type and the detail plus eventId', async () => {
    const owner = uniqueUserId('owner');
    const groupId = await createGroup(owner, [uniqueUserId('bob')], 'Relayed');
    await stream.caughtUp();
    expect(await relay({ Records: recordsOf(groupId) })).toEqual({ batchItemFailures: [] });
    const [event] = publishedFor(groupId);
    expect(publishedFor(groupId)).toHaveLength(1);
    expect(event).toMatchObject({ source: 'sealtalk.group', 'detail-type': 'GroupCreated' });
    expect(event!.detail).toEqual({
      groupId,
      operatorId: owner,
      name: 'Relayed',
      portraitUri: '',
      memberIds: expect.any(Array),
      timestamp: expect.any(Number),
      eventId: recordsOf(groupId)[0]!.dynamodb?.NewImage?.eventId?.S,
    });
  });

  it('keeps one group’s events in commit order', async () => {
    const owner = uniqueUserId('owner');
    const groupId = await createGroup(owner, [uniqueUserId('bob')], 'N0');
    for (let i = 1; i <= 12; i++) await api.rename(owner, { groupId, name: `N${i}` });
    await stream.caughtUp();
    expect(await relay({ Records: recordsOf(groupId) })).toEqual({ batchItemFailures: [] });
    const names = publishedFor(groupId).map((e) => (e.detail as { name: string }).name);
    expect(names).toEqual(Array.from({ length: 13 }, (_, i) => `N${i}`));
  });

  it('retries the entries PutEvents reports failed, and publishes every event exactly once', async () => {
    const owner = uniqueUserId('owner');
    const groupId = await createGroup(owner, [uniqueUserId('bob')], 'R0');
    for (let i = 1; i <= 4; i++) await api.rename(owner, { groupId, name: `R${i}` });
    await stream.caughtUp();
    const refused = new Set<string>();
    bus.failEntries = (entry) => {
      const name = (JSON.parse(entry.Detail ?? '{}') as { name?: string }).name ?? '';
      // R1 and R3 fail on their first attempt only.
      if ((name === 'R1' || name === 'R3') && !refused.has(name)) {
        refused.add(name);
        return true;
      }
      return false;
    };
    expect(await relay({ Records: recordsOf(groupId) })).toEqual({ batchItemFailures: [] });
    expect(refused).toEqual(new Set(['R1', 'R3']));
    expect(publishedFor(groupId).map((e) => (e.detail as { name: string }).name).sort()).toEqual(['R0', 'R1', 'R2', 'R3', 'R4']);
  });

  it('reports the record that still fails, and every record after it, so the stream retries from there', async () => {
    const owner = uniqueUserId('owner');
    const groupId = await createGroup(owner, [uniqueUserId('bob')], 'S0');
    for (let i = 1; i <= 3; i++) await api.rename(owner, { groupId, name: `S${i}` });
    await stream.caughtUp();
    bus.failEntries = (entry) => (JSON.parse(entry.Detail ?? '{}') as { name?: string }).name === 'S2';
    const records = recordsOf(groupId);
    const out = await relay({ Records: records });
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.slice(2).map((r) => r.dynamodb?.SequenceNumber));
    // What was published before it stays published; the retry republishes from S2 on.
    expect(publishedFor(groupId).map((e) => (e.detail as { name: string }).name)).toEqual(['S0', 'S1', 'S3']);
  });
});

describe('the local stream reader (the event source mapping of npm start)', () => {
  const withReader = async (
    handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>,
    onFailure?: (records: DynamoDBRecord[], reason: string) => void,
  ) =>
    startStreamRelay(
      {
        endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
        tableName: process.env.TABLE_NAME as string,
        filter: OUTBOX_STREAM_FILTER as unknown as Record<string, unknown>,
        startAt: 'latest',
        retryDelayMs: 5,
        maxAttempts: 3,
        ...(onFailure ? { onFailure } : {}),
        handler,
      },
      (await import('#infra/local/dynamodb.ts')).localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB as string),
    );

  it('retries from the first record a batch reports failed, as Lambda does', async () => {
    const deliveries: string[][] = [];
    let failedOnce = false;
    const reader = await withReader(async (event) => {
      deliveries.push(event.Records.map((r) => r.dynamodb?.NewImage?.detailType?.S ?? ''));
      const renamed = event.Records.find((r) => r.dynamodb?.NewImage?.detailType?.S === 'GroupRenamed');
      if (renamed && !failedOnce) {
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: renamed.dynamodb?.SequenceNumber ?? '' }] };
      }
      return { batchItemFailures: [] };
    });
    try {
      const owner = uniqueUserId('owner');
      const groupId = await createGroup(owner, [uniqueUserId('bob')]);
      await api.rename(owner, { groupId, name: 'Again' });
      await reader.caughtUp();
      const flat = deliveries.flat();
      expect(flat.filter((t) => t === 'GroupCreated')).toHaveLength(1);
      expect(flat.filter((t) => t === 'GroupRenamed')).toHaveLength(2);
    } finally {
      await reader.stop();
    }
  });

  it('hands a batch that keeps failing to the on-failure destination and goes on', async () => {
    const failures: { records: DynamoDBRecord[]; reason: string }[] = [];
    let calls = 0;
    const reader = await withReader(
      async () => {
        calls++;
        throw new Error('bus unreachable');
      },
      (records, reason) => failures.push({ records, reason }),
    );
    try {
      await createGroup(uniqueUserId('owner'), [uniqueUserId('bob')]);
      await reader.caughtUp();
      expect(calls).toBe(3);
      expect(failures).toHaveLength(1);
      expect(failures[0]!.reason).toBe('bus unreachable');
      expect(failures[0]!.records.map((r) => r.dynamodb?.NewImage?.detailType?.S)).toEqual(['GroupCreated']);
    } finally {
      await reader.stop();
    }
  });
});
