import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterFile, startLocalBus, type LocalBus } from '#infra/local/bus.ts';
import { freePort } from '#infra/local/dynamodb.ts';
import { lambdaContext } from '#infra/local/gateway.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { db, memberItem, tableName } from '#tests/helpers/db.ts';
import { startFakeRongCloud, type FakeRongCloud, type RecordedCall } from '#tests/helpers/fake-rongcloud.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { outboxEnvelopes, sqsEvent, sqsRecord, type Envelope } from '#tests/helpers/outbox.ts';
import { concerns, useOwnTable } from '#tests/helpers/pipeline.ts';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '#lib/store/keys.ts';

/**
 * The notifier driven directly with SQS batches built from real outbox events, against a fake
 * RongCloud that verifies signatures: faults, duplicates, reordering, dead letters, failover.
 * The primary RongCloud URL is a closed port for the whole file: every call here goes through the
 * failover to the backup.
 */

type Handler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

let fake: FakeRongCloud;
let bus: LocalBus;
let dataDir: string;
let handler: Handler;

beforeAll(async () => {
  await useOwnTable();
  fake = await startFakeRongCloud();
  dataDir = mkdtempSync(join(tmpdir(), 'notifier-test-'));
  bus = await startLocalBus({ rules: [], dataDir });
  const closedPort = await freePort();
  Object.assign(process.env, {
    RONGCLOUD_APP_KEY: fake.appKey,
    RONGCLOUD_APP_SECRET: fake.appSecret,
    RONGCLOUD_API_URL: `http://127.0.0.1:${closedPort},${fake.url}`,
    RONGCLOUD_TIMEOUT_MS: '300',
    AWS_ENDPOINT_URL_SQS: bus.endpoint,
    NOTIFIER_DLQ_URL: `${bus.endpoint}/000000000000/notifier-dlq`,
  });
  handler = ((await import('#functions/notifier.ts')) as { handler: Handler }).handler;
});
afterAll(async () => {
  await bus?.stop(0);
  await fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

/** Delivers a batch like the SQS event source, with a Lambda that has `timeoutMs` left. */
const deliver = (event: SQSEvent, timeoutMs = 30_000) => handler(event, lambdaContext('notifier', timeoutMs));
const calls = (groupId: string) => fake.calls.filter((c) => concerns(c, groupId));
const summary = (call: RecordedCall) => `${call.path} ${JSON.parse(call.form.get('content') ?? '{}').operation ?? ''}`.trim();
const deadLetters = (): { reason: string; body: Envelope }[] => {
  try {
    return readFileSync(deadLetterFile(dataDir), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
};

/** A group with its outbox events (GroupCreated first), created but not yet delivered. */
const newGroup = async (name = 'Team') => {
  const [owner, bob] = [uniqueUserId('owner'), uniqueUserId('bob')];
  const groupId = await createGroup({ sub: owner, name: 'Owner' }, [bob], name);
  return { owner, bob, groupId, events: await outboxEnvelopes(groupId) };
};

describe('the notifier', () => {
  it('reaches RongCloud through the backup URL when the primary is down', async () => {
    const { groupId, events } = await newGroup();
    expect(await deliver(sqsEvent(sqsRecord(events[0]!)))).toEqual({ batchItemFailures: [] });
    expect(calls(groupId).map(summary)).toEqual(['/group/create.json', '/message/group/publish.json Create']);
  });

  it('retries 500, 429 and a timed-out answer within the invocation, and delivers each call once', async () => {
    const { groupId, events } = await newGroup();
    fake.fail('/group/create.json', { status: 500 }, { status: 429 }, { delayMs: 1_000 });
    expect(await deliver(sqsEvent(sqsRecord(events[0]!)))).toEqual({ batchItemFailures: [] });
    expect(fake.attempts.filter((a) => a.path === '/group/create.json' && a.form.get('groupId') === groupId)).toHaveLength(4);
    expect(calls(groupId).map(summary)).toEqual(['/group/create.json', '/message/group/publish.json Create']);
  });

  it('reports a call that keeps failing until the deadline for redelivery, and the redelivery does only what is left', async () => {
    const { groupId, events } = await newGroup();
    fake.fail('/message/group/publish.json', ...Array.from({ length: 50 }, () => ({ status: 503 })));
    const record = sqsRecord(events[0]!);
    // 4 s left: the notifier keeps 3 s back, so it gives up after about 1 s of retries.
    expect(await deliver(sqsEvent(record), 4_000)).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(calls(groupId).map(summary)).toEqual(['/group/create.json']);

    fake.reset();
    expect(await deliver(sqsEvent(sqsRecord(events[0]!, 2)))).toEqual({ batchItemFailures: [] });
    expect(calls(groupId).map(summary)).toEqual(['/message/group/publish.json Create']);
  });

  it('sends an event RongCloud refuses with 1002 to the dead-letter queue at once, without blocking the rest of the batch', async () => {
    const first = await newGroup('Refused');
    await deliver(sqsEvent(sqsRecord(first.events[0]!)));
    expect((await api.rename(first.owner, { groupId: first.groupId, name: 'Bad name' })).body.code).toBe(200);
    const renamed = (await outboxEnvelopes(first.groupId))[1]!;
    const second = await newGroup('Fine');
    fake.reset();
    fake.fail('/group/refresh.json', { status: 200, code: 1002, errorMessage: 'groupName invalid' });

    const refused = sqsRecord(renamed);
    expect(await deliver(sqsEvent(refused, sqsRecord(second.events[0]!)))).toEqual({ batchItemFailures: [] });
    expect(fake.attempts.filter((a) => a.path === '/group/refresh.json')).toHaveLength(1);
    expect(calls(first.groupId)).toEqual([]);
    expect(calls(second.groupId).map(summary)).toEqual(['/group/create.json', '/message/group/publish.json Create']);
    const dead = deadLetters().filter((d) => d.body.id === renamed.id);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toMatch(/code 1002/);
  });

  it('sends each call once when the same event is delivered twice, one after the other or at the same time', async () => {
    const { groupId, events } = await newGroup();
    await deliver(sqsEvent(sqsRecord(events[0]!)));
    expect(await deliver(sqsEvent(sqsRecord(events[0]!)))).toEqual({ batchItemFailures: [] });
    expect(calls(groupId).map(summary)).toEqual(['/group/create.json', '/message/group/publish.json Create']);

    const other = await newGroup();
    const [a, b] = [sqsRecord(other.events[0]!), sqsRecord(other.events[0]!)];
    const results = await Promise.all([deliver(sqsEvent(a)), deliver(sqsEvent(b))]);
    // The one that found the other holding the event's lease hands it back to the queue...
    const retried = results.flatMap((r) => r.batchItemFailures);
    expect(retried.length).toBeLessThanOrEqual(1);
    // ...and its redelivery finds the work done.
    for (const failure of retried) {
      const again = failure.itemIdentifier === a.messageId ? a : b;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await deliver(sqsEvent(sqsRecord(JSON.parse(again.body) as Envelope, 2)))).toEqual({ batchItemFailures: [] });
    }
    expect(calls(other.groupId).map(summary)).toEqual(['/group/create.json', '/message/group/publish.json Create']);
  });

  it('ends with the right IM name and members when a rename is delivered before the create', async () => {
    const { owner, bob, groupId } = await newGroup('First');
    expect((await api.rename(owner, { groupId, name: 'Second' })).body.code).toBe(200);
    const [created, renamed] = await outboxEnvelopes(groupId);
    expect([created!['detail-type'], renamed!['detail-type']]).toEqual(['GroupCreated', 'GroupRenamed']);

    expect(await deliver(sqsEvent(sqsRecord(renamed!)))).toEqual({ batchItemFailures: [] });
    expect(await deliver(sqsEvent(sqsRecord(created!)))).toEqual({ batchItemFailures: [] });
    expect(fake.groups.get(groupId)).toMatchObject({ name: 'Second', members: new Set([owner, bob]) });
    // The IM group was created once, under the current name; both announcements went out.
    expect(calls(groupId).map(summary)).toEqual([
      '/group/create.json',
      '/message/group/publish.json Rename',
      '/message/group/publish.json Create',
    ]);
    expect(calls(groupId)[0]!.form.get('groupName')).toBe('Second');
  });

  it('leaves out of the IM group a member who left before the creation was delivered', async () => {
    const { owner, bob, groupId, events } = await newGroup();
    // What a quit committed before the create is processed leaves in the table (the membership
    // issue's endpoints): no member item.
    await db.send(new DeleteCommand({ TableName: tableName(), Key: keys.member(groupId, bob) }));
    expect(await memberItem(groupId, bob)).toBeUndefined();
    await deliver(sqsEvent(sqsRecord(events[0]!)));
    expect(fake.groups.get(groupId)?.members).toEqual(new Set([owner]));
  });

  it('dead-letters a message that is not a valid group event, naming the problem', async () => {
    const bogus = sqsRecord({
      version: '0',
      id: 'x',
      'detail-type': 'GroupCreated',
      source: 'sealtalk.group',
      account: '0',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { groupId: 'g1', eventId: 'e-bogus' },
    });
    expect(await deliver(sqsEvent(bogus))).toEqual({ batchItemFailures: [] });
    expect(deadLetters().some((d) => d.body.id === 'x' && /operatorId/.test(d.reason))).toBe(true);
  });
});
