import { randomBytes } from 'node:crypto';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseEnv } from '../config.ts';
import { clearChunk, runClearPass, type ChunkQueue, type ClearChunk, type ClearingStore, type PassSummary } from '../domain/clearing.ts';
import { logger } from '../log.ts';
import { REGULAR_CLEAR_QUEUE } from '../routes.ts';
import type { ImTransport } from './client.ts';
import { createRongCloudApi } from './rongcloud.ts';
import * as z from 'zod/mini';
import { coercedNumber } from '../zod.ts';

/**
 * The composition of regular clearing: the hourly pass (`functions/regular-clear.ts`) and the chunk
 * worker (`functions/regular-clear-worker.ts`), with the SQS queue between them.
 */

export const regularClearEnvSchema = z.object({
  /** The chunk queue (SQS; locally the local bus). */
  REGULAR_CLEAR_QUEUE_URL: z.url(),
});

export const workerEnvSchema = z.object({
  /**
   * History calls per second, all workers together (RongCloud allows 100/s for the App Key). Each
   * of the `maxConcurrency` workers keeps its share.
   */
  REGULAR_CLEAR_RATE: z._default(coercedNumber().check(z.positive(), z.lte(100)), 100),
  /**
   * How many workers share that rate: the queue's `maxConcurrency` in AWS (one container each);
   * 1 locally, where the workers of one process share one client.
   */
  REGULAR_CLEAR_RATE_SHARE: z._default(coercedNumber().check(z.int(), z.gte(1)), REGULAR_CLEAR_QUEUE.maxConcurrency),
});

/** SQS's SendMessageBatch limit. */
const SQS_BATCH = 10;
const SEND_ATTEMPTS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const chunkSchema = z.object({
  groupId: z.string().check(z.minLength(1)),
  runId: z.string().check(z.minLength(1)),
  chunk: z.number().check(z.int(), z.nonnegative()),
  from: z.string(),
  to: z.optional(z.string()),
  cutoff: z.number().check(z.int(), z.nonnegative()),
});

/** Run ids sort by start time: `<start ms, 15 digits>-<random>`. */
export const newRunId = (now: number): string => `${String(now).padStart(15, '0')}-${randomBytes(4).toString('hex')}`;

/** Sends chunks 10 per request; entries SQS failed are retried a few times, then the send throws. */
export const createChunkQueue = (sqs: SQSClient, queueUrl: string): ChunkQueue => ({
  async send(chunks) {
    for (let i = 0; i < chunks.length; i += SQS_BATCH) {
      let pending = chunks.slice(i, i + SQS_BATCH).map((chunk, j) => ({ Id: String(j), MessageBody: JSON.stringify(chunk) }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        const senderFault = (out.Failed ?? []).find((f) => f.SenderFault);
        if (senderFault) throw new Error(`chunk queue refused a message: ${senderFault.Code ?? ''} ${senderFault.Message ?? ''}`);
        pending = pending.filter((entry) => failed.has(entry.Id));
        if (pending.length > 0) {
          if (attempt >= SEND_ATTEMPTS) throw new Error(`chunk queue failed ${pending.length} messages ${SEND_ATTEMPTS} times`);
          await sleep(50 * 2 ** attempt);
        }
      }
    }
  },
});

/** The hourly pass: throws (so the scheduler retries, then dead-letters) when a group failed. */
export const createPassHandler = (deps: { clearing: ClearingStore; queue: () => ChunkQueue; now?: () => number }) => {
  const log = logger.child({ function: 'regular-clear' });
  return async (): Promise<PassSummary> => {
    const started = Date.now();
    const summary = await runClearPass({
      clearing: deps.clearing,
      queue: deps.queue(),
      now: deps.now ?? Date.now,
      newRunId,
      log,
    });
    const fields = {
      due: summary.due,
      claimed: summary.claimed.length,
      members: summary.claimed.reduce((n, c) => n + c.members, 0),
      chunks: summary.claimed.reduce((n, c) => n + c.chunks, 0),
      skipped: summary.skipped,
      failed: summary.failed.length,
      ms: Date.now() - started,
    };
    if (summary.failed.length > 0) {
      log.error('regular clear pass finished with failures', { ...fields, failures: summary.failed });
      throw new Error(`regular clear: ${summary.failed.length} of ${summary.due} due groups failed (${summary.failed.map((f) => f.groupId).join(', ')})`);
    }
    log.info('regular clear pass finished', fields);
    return summary;
  };
};

/** Time kept back from the Lambda's deadline for marking the chunk done. */
const DEADLINE_MARGIN_MS = 5_000;

/**
 * The chunk worker (SQS, one chunk per message): each record's failure is reported on its own
 * (`batchItemFailures`), so the queue retries it and finally dead-letters it.
 */
export const createWorkerHandler = (deps: { clearing: ClearingStore; transport: () => Promise<ImTransport>; now?: () => number }) => {
  const baseLog = logger.child({ function: REGULAR_CLEAR_QUEUE.handler });
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const transport = await deps.transport();
    const deadline = () =>
      Date.now() + Math.max(1_000, (context?.getRemainingTimeInMillis() ?? REGULAR_CLEAR_QUEUE.timeoutSeconds * 1000) - DEADLINE_MARGIN_MS);
    const im = createRongCloudApi({ call: (path, form, options) => transport.call(path, form, { deadline: deadline(), ...options }) });
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const log = baseLog.child({ messageId: record.messageId, receiveCount: record.attributes.ApproximateReceiveCount });
      try {
        const chunk = parseChunk(record);
        const started = Date.now();
        const outcome = await clearChunk(
          {
            clearing: deps.clearing,
            history: { clean: (groupId, userId, beforeMs) => im.cleanGroupHistory(groupId, userId, beforeMs) },
            now: deps.now ?? Date.now,
            log,
          },
          chunk,
        );
        log.info(outcome.kind === 'cleared' ? 'regular clear chunk done' : 'regular clear chunk skipped', {
          groupId: chunk.groupId,
          runId: chunk.runId,
          chunk: chunk.chunk,
          ...outcome,
          ms: Date.now() - started,
        });
      } catch (error) {
        log.warn('regular clear chunk failed; the queue retries it', { error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
};

const parseChunk = (record: SQSRecord): ClearChunk => {
  const parsed = chunkSchema.safeParse(JSON.parse(record.body));
  if (!parsed.success) throw new Error(`not a regular-clear chunk: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { to, ...rest } = parsed.data;
  return to === undefined ? rest : { ...rest, to };
};

/** The pass's queue from the environment (read when first needed, so a bad URL fails that invocation). */
export const chunkQueueFromEnv = (sqs: SQSClient, env: NodeJS.ProcessEnv): ChunkQueue =>
  createChunkQueue(sqs, parseEnv(regularClearEnvSchema, env).REGULAR_CLEAR_QUEUE_URL);

/** The worker's rate: `REGULAR_CLEAR_RATE` shared by `REGULAR_CLEAR_RATE_SHARE` workers. */
export const workerRate = (env: NodeJS.ProcessEnv): { share: number; overrides: { historyClean: number } } => {
  const { REGULAR_CLEAR_RATE, REGULAR_CLEAR_RATE_SHARE } = parseEnv(workerEnvSchema, env);
  return { share: REGULAR_CLEAR_RATE_SHARE, overrides: { historyClean: REGULAR_CLEAR_RATE } };
};
