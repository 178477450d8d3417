import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureTable, localClient } from '#infra/local/dynamodb.ts';
import { deadLetterFile } from '#infra/local/bus.ts';
import { startLocalEvents, type LocalEvents } from '#infra/local/events.ts';
import { startFakeRongCloud, type FakeRongCloud, type RecordedCall } from './fake-rongcloud.ts';

/**
 * The whole event pipeline in a test process, as `npm start` runs it: a table of its own on this
 * run's DynamoDB Local (consumers keep per-event ledgers: two pipelines on one table would share
 * them), the stream relay, the local bus, the notifier, and a fake RongCloud that the notifier
 * calls with real signed requests.
 *
 * Call it before any handler is imported (the handlers read TABLE_NAME and RONGCLOUD_* at import):
 * route handlers are imported lazily by `callRoute`, so a `beforeAll` is early enough.
 */

export interface TestPipeline {
  fake: FakeRongCloud;
  events: LocalEvents;
  dataDir: string;
  tableName: string;
  /** Waits until everything committed so far is relayed and delivered. */
  settled(timeoutMs?: number): Promise<void>;
  /** Accepted RongCloud calls that concern `groupId`, in order. */
  callsFor(groupId: string): RecordedCall[];
  /** Lines of the local dead-letter file. */
  deadLetters(): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface PipelineOptions {
  /** Extra env for the handlers (set before they load). */
  env?: Record<string, string>;
  /** The fake's base URL is used unless `RONGCLOUD_API_URL` is given in `env`. */
  retryDelayMs?: number;
}

/** Whether a recorded call concerns `groupId` (as groupId, toGroupId, targetId or inside content). */
export const concerns = (call: RecordedCall, groupId: string): boolean =>
  call.form.get('groupId') === groupId ||
  call.form.getAll('groupId').includes(groupId) ||
  call.form.get('toGroupId') === groupId ||
  call.form.get('targetId') === groupId ||
  (call.form.get('content') ?? '').includes(`"${groupId}"`);

/**
 * A table of this test file's own on this run's DynamoDB Local, made the one handlers use
 * (TABLE_NAME): for files whose consumers keep per-event state that must not mix with other files'.
 */
export const useOwnTable = async (): Promise<{ tableName: string; ddb: ReturnType<typeof localClient> }> => {
  const ddb = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  const tableName = `sealtalk-test-own-${randomBytes(4).toString('hex')}`;
  await ensureTable(ddb, tableName);
  process.env.TABLE_NAME = tableName;
  return { tableName, ddb };
};

export const startTestPipeline = async (options: PipelineOptions = {}): Promise<TestPipeline> => {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB as string;
  const { tableName, ddb } = await useOwnTable();
  const fake = await startFakeRongCloud();
  process.env.RONGCLOUD_APP_KEY = fake.appKey;
  process.env.RONGCLOUD_APP_SECRET = fake.appSecret;
  process.env.RONGCLOUD_API_URL = fake.url;
  Object.assign(process.env, options.env);

  const dataDir = mkdtempSync(join(tmpdir(), 'sealtalk-pipeline-'));
  const events = await startLocalEvents({
    dataDir,
    tableName,
    dynamoEndpoint: endpoint,
    ddb,
    startAt: 'oldest',
    retryDelayMs: options.retryDelayMs ?? 20,
  });
  return {
    fake,
    events,
    dataDir,
    tableName,
    settled: (timeoutMs) => events.settled(timeoutMs),
    callsFor: (groupId) => fake.calls.filter((c) => concerns(c, groupId)),
    deadLetters: () => {
      try {
        return readFileSync(deadLetterFile(dataDir), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    close: async () => {
      await events.stop();
      await fake.close();
      ddb.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
