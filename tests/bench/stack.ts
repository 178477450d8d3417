import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable, localClient, startDynamoDbLocal, type DynamoDbLocal } from '#infra/local/dynamodb.ts';
import type { LocalEvents } from '#infra/local/events.ts';
import type { GatewayOptions } from '#infra/local/gateway.ts';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';

/**
 * What every benchmark script starts with: a DynamoDB Local of its own (in memory), one table, and
 * the environment the handlers read at import time (so import `#lib/...` and `#functions/...`
 * only after `startBenchStack` resolved). Logs and EMF metrics are off unless BENCH_LOG_LEVEL says.
 *
 *   const stack = await startBenchStack('members', { MAX_GROUP_MEMBERS: '3000' });
 *   try { ... } finally { await stack.stop(); }
 */

export interface BenchStack {
  readonly dynamo: DynamoDbLocal;
  readonly tableName: string;
  /** A low-level client on the bench's DynamoDB Local (the local event pipeline takes one). */
  readonly ddb: DynamoDBClient;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  /**
   * Whether the table has its stream (default true). Only benchmarks that run the relay need it:
   * DynamoDB Local looks the stream up on every write, which gets slower as the stream grows.
   */
  readonly stream?: boolean;
}

export const startBenchStack = async (
  name: string,
  env: Record<string, string> = {},
  options: BenchStackOptions = {},
): Promise<BenchStack> => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';
  process.env.METRICS ??= 'off';
  const dynamo = await startDynamoDbLocal();
  const tableName = `bench-${name}-${randomBytes(3).toString('hex')}`;
  const ddb = localClient(dynamo.endpoint);
  try {
    await ensureTable(ddb, tableName, undefined, { stream: options.stream ?? true });
  } catch (error) {
    ddb.destroy();
    await dynamo.stop();
    throw error;
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TABLE_NAME: tableName,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...env,
  });
  return {
    dynamo,
    tableName,
    ddb,
    stop: async () => {
      ddb.destroy();
      await dynamo.stop();
    },
  };
};

export interface PipelineStack extends BenchStack {
  /** The fake RongCloud the notifier and the regular-clear worker call (RONGCLOUD_* point at it). */
  readonly fake: FakeRongCloud;
  /** `npm start`'s event pipeline: stream relay, local bus, notifier and work queues. */
  readonly events: LocalEvents;
}

/**
 * A bench stack (stream on) with the event pipeline of `npm start` reading it and a fake RongCloud
 * at the end of it, on a temporary data directory; `stop()` takes all of it down.
 */
export const startPipelineStack = async (name: string, env: Record<string, string> = {}): Promise<PipelineStack> => {
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const fake = await startFakeRongCloud();
  const cleanUp = async () => {
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let stack: BenchStack;
  try {
    stack = await startBenchStack(name, { RONGCLOUD_APP_KEY: fake.appKey, RONGCLOUD_APP_SECRET: fake.appSecret, RONGCLOUD_API_URL: fake.url, ...env });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  try {
    const { startLocalEvents } = await import('#infra/local/events.ts');
    const events = await startLocalEvents({ dataDir, tableName: stack.tableName, dynamoEndpoint: stack.dynamo.endpoint, ddb: stack.ddb, startAt: 'latest' });
    return {
      ...stack,
      fake,
      events,
      stop: async () => {
        await events.stop();
        await stack.stop();
        await cleanUp();
      },
    };
  } catch (error) {
    await stack.stop();
    await cleanUp();
    throw error;
  }
};

/** The local gateway (`npm start`'s) on a free loopback port; import it only after the stack started. */
export const startBenchGateway = async (options: GatewayOptions): Promise<{ baseUrl: string; close(): Promise<void> }> => {
  const { createGateway } = await import('#infra/local/gateway.ts');
  const server = createGateway(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

/** The p-th percentile (nearest rank) of `xs`. */
export const percentile = (xs: readonly number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] ?? NaN;
