import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { OUTBOX_STREAM_FILTER } from '#lib/events/outbox.ts';
import { consumers, eventPatternOf, NOTIFIER_QUEUE, OUTBOX_RELAY_HANDLER, workQueues, type EventConsumer, type WorkQueue } from '#lib/routes.ts';
import { deadLetterFile, startLocalBus, type LocalBus, type LocalQueue, type LocalRule } from './bus.ts';
import { lambdaContext } from './gateway.ts';
import { startStreamRelay, type StreamRelay } from './stream-relay.ts';

/**
 * The event pipeline of `npm start` (and of the end-to-end tests and benchmark), wired the way the
 * CDK stack wires it in AWS: the table's stream → the relay function (same filter) → a local bus
 * speaking PutEvents → one rule per consumer (same patterns, from lib/routes.ts) → the same
 * consumer functions, the notifier through an SQS-style queue with the same batch size, concurrency
 * cap and maxReceiveCount; the work queues (regular clear's chunks) with their workers. What still
 * fails ends in `<dataDir>/dead-letters.jsonl`.
 */

export const LOCAL_BUS_NAME = 'sealtalk-group-local';
const ACCOUNT = '000000000000';

export interface LocalEventsOptions {
  dataDir: string;
  tableName: string;
  dynamoEndpoint: string;
  ddb: DynamoDBClient;
  /** Without a relay checkpoint: relay the whole stream (default) or only what is committed from now on. */
  startAt?: 'oldest' | 'latest';
  /** Port of the bus (default: a free one). */
  busPort?: number;
  /** Local retry delays (ms); AWS waits the queue's visibility timeout instead. */
  retryDelayMs?: number;
}

export interface LocalEvents {
  bus: LocalBus;
  relay: StreamRelay;
  /** Resolves once everything committed so far has been relayed and delivered. */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `functions/<name>.ts`'s handler, imported on first use (like a cold start), then kept. */
const lazyHandler = <H>(name: string): (() => Promise<H>) => {
  let loaded: Promise<H> | undefined;
  return () =>
    (loaded ??= (import(`#functions/${name}.ts`) as Promise<{ handler?: unknown }>).then((module) => {
      if (typeof module.handler !== 'function') throw new Error(`functions/${name}.ts does not export a handler`);
      return module.handler as H;
    }));
};

type SqsHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse | void>;
type InvokedHandler = (event: EventBridgeEvent<string, unknown>) => Promise<unknown>;

const ruleOf = (consumer: EventConsumer, retryDelayMs: number | undefined): LocalRule => {
  const pattern = eventPatternOf(consumer);
  if (consumer.delivery === 'sqs') {
    const handler = lazyHandler<SqsHandler>(consumer.handler);
    return {
      name: consumer.handler,
      pattern,
      target: {
        kind: 'sqs',
        queueName: `${consumer.handler}-queue`,
        batchSize: NOTIFIER_QUEUE.batchSize,
        maxConcurrency: consumer.maxConcurrency ?? 2,
        maxReceiveCount: NOTIFIER_QUEUE.maxReceiveCount,
        ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
        handler: async (event) => (await handler())(event, lambdaContext(consumer.handler, NOTIFIER_QUEUE.timeoutSeconds * 1000)),
      },
    };
  }
  const handler = lazyHandler<InvokedHandler>(consumer.handler);
  return {
    name: consumer.handler,
    pattern,
    target: {
      kind: 'lambda',
      retryAttempts: 2,
      ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
      handler: async (event) => (await handler())(event),
    },
  };
};

/** A work queue (regular clear's chunks) played by the bus, consumed by its worker as in AWS. */
const queueOf = (work: WorkQueue, retryDelayMs: number | undefined): LocalQueue => {
  const handler = lazyHandler<SqsHandler>(work.handler);
  return {
    name: work.name,
    target: {
      batchSize: work.batchSize,
      maxConcurrency: work.maxConcurrency,
      maxReceiveCount: work.maxReceiveCount,
      ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
      handler: async (event) => (await handler())(event, lambdaContext(work.handler, work.timeoutSeconds * 1000)),
    },
  };
};

export const startLocalEvents = async (options: LocalEventsOptions): Promise<LocalEvents> => {
  const bus = await startLocalBus({
    rules: consumers.map((c) => ruleOf(c, options.retryDelayMs)),
    queues: workQueues.map((q) => queueOf(q, options.retryDelayMs)),
    dataDir: options.dataDir,
    busName: LOCAL_BUS_NAME,
    account: ACCOUNT,
    ...(options.busPort === undefined ? {} : { port: options.busPort }),
  });
  // What the functions read, as the stack sets it in AWS (they are imported after this point).
  process.env.EVENT_BUS_NAME = LOCAL_BUS_NAME;
  process.env.LOCAL_BUS_NAME = LOCAL_BUS_NAME;
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.endpoint;
  process.env.AWS_ENDPOINT_URL_SQS = bus.endpoint;
  process.env.NOTIFIER_DLQ_URL = `${bus.endpoint}/${ACCOUNT}/notifier-dlq`;
  process.env.NOTIFIER_RATE_SHARE = String(consumers.find((c) => c.handler === 'notifier')?.maxConcurrency ?? 1);
  for (const work of workQueues) process.env[work.urlEnv] = `${bus.endpoint}/${ACCOUNT}/${work.name}`;
  // The workers of one process share one RongCloud client: it holds the whole REGULAR_CLEAR_RATE.
  process.env.REGULAR_CLEAR_RATE_SHARE = '1';

  const relayHandler = lazyHandler<(event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>>(OUTBOX_RELAY_HANDLER);
  let relay: StreamRelay;
  try {
    relay = await startStreamRelay(
      {
        endpoint: options.dynamoEndpoint,
        tableName: options.tableName,
        filter: OUTBOX_STREAM_FILTER as unknown as Record<string, unknown>,
        checkpointFile: join(options.dataDir, 'relay-checkpoint.json'),
        startAt: options.startAt ?? 'oldest',
        ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
        handler: async (event) => (await relayHandler())(event),
        // The event source's on-failure destination: the records' coordinates, kept for an operator.
        onFailure: (records, reason) =>
          appendFileSync(
            deadLetterFile(options.dataDir),
            `${JSON.stringify({ time: new Date().toISOString(), queue: 'outbox-relay-failures', reason, records })}\n`,
          ),
      },
      options.ddb,
    );
  } catch (error) {
    await bus.stop(0);
    throw error;
  }

  return {
    bus,
    relay,
    settled: async (timeoutMs = 10_000) => {
      await relay.caughtUp(timeoutMs);
      await bus.idle(timeoutMs);
    },
    stop: async () => {
      await relay.stop();
      await bus.stop();
    },
  };
};
