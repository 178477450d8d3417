import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable, localClient, startDynamoDbLocal, type DynamoDbLocal } from '#infra/local/dynamodb.ts';

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

/** The p-th percentile (nearest rank) of `xs`. */
export const percentile = (xs: readonly number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] ?? NaN;
