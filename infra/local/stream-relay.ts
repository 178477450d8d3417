import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createLogger } from '#lib/log.ts';
import { matchesPattern } from './event-pattern.ts';

/**
 * The local stand-in for Lambda's DynamoDB stream event source: reads DynamoDB Local's stream,
 * applies the same filter criteria as the deployed event source mapping, and invokes the same
 * handler with the same event shape, honouring `batchItemFailures` (it retries from the first
 * failed record, as Lambda does). Progress is checkpointed to a file, so events committed while
 * the runtime was down (or not yet relayed when it stopped) are relayed after a restart.
 */

export interface StreamRelayOptions {
  endpoint: string;
  tableName: string;
  /** The event source's filter (Lambda filter-criteria syntax). */
  filter: Record<string, unknown>;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /** Where the last relayed sequence number per shard is kept; none: start where `startAt` says. */
  checkpointFile?: string;
  /** Without a checkpoint: from the oldest record (default, like the deployed TRIM_HORIZON) or only new ones. */
  startAt?: 'oldest' | 'latest';
  /** Wait between polls of an idle stream (ms). @default 25 */
  pollMs?: number;
  /** Records per invocation. @default 100 */
  batchSize?: number;
  /** Attempts of a failing batch before it goes to `onFailure` (the on-failure destination). @default 8 */
  maxAttempts?: number;
  /** First retry delay of a failing batch (doubles per attempt, capped at 5 s). @default 200 */
  retryDelayMs?: number;
  onFailure?: (records: DynamoDBRecord[], reason: string) => void;
}

export interface StreamRelay {
  /** Resolves once everything in the stream when it was called has been handed to the handler. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

interface ShardState {
  id: string;
  iterator?: string;
  lastSequence?: string;
  closed: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The stream record as Lambda hands it to a function (creation time in epoch seconds). */
const toLambdaRecord = (record: _Record, streamArn: string): DynamoDBRecord => {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    ...(record as unknown as DynamoDBRecord),
    eventSourceARN: streamArn,
    dynamodb: {
      ...(record.dynamodb as DynamoDBRecord['dynamodb']),
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
    },
  };
};

export const startStreamRelay = async (options: StreamRelayOptions, ddb: DynamoDBClient): Promise<StreamRelay> => {
  const log = createLogger({ service: 'sealtalk-group', component: 'local-stream-relay' });
  const pollMs = options.pollMs ?? 25;
  const batchSize = options.batchSize ?? 100;
  const maxAttempts = options.maxAttempts ?? 8;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const streams = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  const table = await ddb.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);

  const checkpoints: Record<string, string> = {};
  if (options.checkpointFile) {
    try {
      const saved = JSON.parse(readFileSync(options.checkpointFile, 'utf8')) as { streamArn?: string; shards?: Record<string, string> };
      // A recreated table has a new stream: its old checkpoints mean nothing.
      if (saved.streamArn === streamArn) Object.assign(checkpoints, saved.shards ?? {});
    } catch {
      // no checkpoint yet
    }
  }
  const saveCheckpoint = (): void => {
    if (!options.checkpointFile) return;
    const tmp = `${options.checkpointFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ streamArn, shards: checkpoints }));
    renameSync(tmp, options.checkpointFile);
  };

  const shards = new Map<string, ShardState>();
  const iteratorFor = async (shard: ShardState, type: ShardIteratorType, sequence?: string): Promise<string | undefined> =>
    (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.id, ShardIteratorType: type, SequenceNumber: sequence })))
      .ShardIterator;
  const discover = async (): Promise<void> => {
    let start: string | undefined;
    do {
      const out = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      for (const s of out.StreamDescription?.Shards ?? []) {
        if (!s.ShardId || shards.has(s.ShardId)) continue;
        const shard: ShardState = { id: s.ShardId, closed: false };
        const saved = checkpoints[s.ShardId];
        if (saved) shard.lastSequence = saved;
        shards.set(s.ShardId, shard);
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
  };
  /** Shards that appear after the start are read from their beginning, whatever `startAt` says. */
  let positioned = false;
  const ensureIterator = async (shard: ShardState): Promise<void> => {
    if (shard.iterator) return;
    shard.iterator = shard.lastSequence
      ? await iteratorFor(shard, 'AFTER_SEQUENCE_NUMBER', shard.lastSequence)
      : await iteratorFor(shard, options.startAt === 'latest' && !positioned ? 'LATEST' : 'TRIM_HORIZON');
  };

  /** Hands `records` to the handler until they are all through (or dead-lettered). */
  const deliver = async (shard: ShardState, records: DynamoDBRecord[]): Promise<void> => {
    let pending = records;
    for (let attempt = 1; pending.length > 0; attempt++) {
      let reason: string;
      try {
        const out = await options.handler({ Records: pending });
        const failed = (out?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
        if (failed.length === 0) return;
        const first = pending.findIndex((r) => failed.includes(r.dynamodb?.SequenceNumber ?? ''));
        const from = first === -1 ? 0 : first;
        shard.lastSequence = pending[from - 1]?.dynamodb?.SequenceNumber ?? shard.lastSequence;
        pending = pending.slice(from);
        reason = `${failed.length} record(s) reported failed`;
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
      if (attempt >= maxAttempts) {
        log.error('stream records sent to the on-failure destination', { count: pending.length, reason });
        options.onFailure?.(pending, reason);
        return;
      }
      log.warn('stream batch failed; retrying', { attempt, count: pending.length, reason });
      await sleep(Math.min(5_000, retryDelayMs * 2 ** (attempt - 1)));
    }
  };

  let stopped = false;
  let rounds = 0;
  const roundWaiters: { round: number; resolve: () => void }[] = [];

  const pollShard = async (shard: ShardState): Promise<number> => {
    await ensureIterator(shard);
    if (!shard.iterator) {
      shard.closed = true;
      return 0;
    }
    let out;
    try {
      out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: batchSize }));
    } catch (error) {
      if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
        shard.iterator = undefined;
        return 0;
      }
      throw error;
    }
    const records = out.Records ?? [];
    if (records.length > 0) {
      const matching = records.map((r) => toLambdaRecord(r, streamArn)).filter((r) => matchesPattern(options.filter, r));
      if (matching.length > 0) await deliver(shard, matching);
      shard.lastSequence = records.at(-1)?.dynamodb?.SequenceNumber ?? shard.lastSequence;
      if (shard.lastSequence) checkpoints[shard.id] = shard.lastSequence;
      saveCheckpoint();
    }
    shard.iterator = out.NextShardIterator;
    if (!shard.iterator) shard.closed = true;
    return records.length;
  };

  const loop = async (): Promise<void> => {
    let lastDiscovery = Date.now();
    while (!stopped) {
      let seen = 0;
      try {
        if (Date.now() - lastDiscovery > 5_000 || [...shards.values()].every((s) => s.closed)) {
          await discover();
          lastDiscovery = Date.now();
        }
        for (const shard of shards.values()) if (!shard.closed && !stopped) seen += await pollShard(shard);
      } catch (error) {
        log.error('reading the stream failed; retrying', { error });
        for (const shard of shards.values()) shard.iterator = undefined;
        await sleep(500);
      }
      if (seen === 0) {
        rounds++;
        for (const waiter of roundWaiters.splice(0)) {
          if (rounds >= waiter.round) waiter.resolve();
          else roundWaiters.push(waiter);
        }
        await sleep(pollMs);
      }
    }
  };
  // Position every shard before returning: 'latest' means "committed after start() resolved".
  await discover();
  for (const shard of shards.values()) await ensureIterator(shard);
  positioned = true;
  const running = loop();

  return {
    caughtUp: (timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stream relay not caught up after ${timeoutMs} ms`)), timeoutMs);
        // Two empty rounds from now: everything committed before this call was read.
        roundWaiters.push({
          round: rounds + 2,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    stop: async () => {
      stopped = true;
      await running;
      streams.destroy();
    },
  };
};
