import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseEnv } from '../config.ts';
import { logger, type Logger } from '../log.ts';
import { DeliveryBusy } from '../store/deliveries.ts';
import type { GroupReads } from '../domain/ports.ts';
import type { Store } from '../store/index.ts';
import { createLogTransport, createRongCloudClient, ImCallFailed, rongCloudConfigFromEnv, type ImTransport } from './client.ts';
import { notify, UnprocessableEvent, type NotifierDeps } from './notifier.ts';
import type { RateOverrides } from './rate.ts';
import { createRongCloudApi } from './rongcloud.ts';
import * as z from 'zod/mini';
import { coercedNumber } from '../zod.ts';

/**
 * The notifier's composition root: configuration, the RongCloud transport (one per container, so
 * failover state and rate buckets are shared by every invocation) and the SQS batch handler.
 */

const envSchema = z.object({
  /** Where events that can never succeed go at once (not retried): the queue's dead-letter queue. */
  NOTIFIER_DLQ_URL: z.optional(z.url()),
  /** In AWS: the Secrets Manager secret holding the RongCloud app secret (read once per container). */
  RONGCLOUD_APP_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
  /** How many notifier containers may run at once; each keeps 1/N of RongCloud's rate limits. */
  NOTIFIER_RATE_SHARE: z._default(coercedNumber().check(z.int(), z.gte(1)), 1),
});

/** Records of one batch in progress at once. */
const RECORDS_AT_ONCE = 5;

/** Time kept back from the Lambda's deadline for the ledger write and the answer. */
const DEADLINE_MARGIN_MS = 3_000;

const fetchSecret = async (secretId: string): Promise<string> => {
  const client = new SecretsManagerClient({});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const value = out.SecretString?.trim();
    if (!value) throw new Error(`secret ${secretId} has no value: set the RongCloud app secret in it`);
    // Either the bare secret or {"appSecret": "..."}.
    if (value.startsWith('{')) {
      const parsed = z.parse(z.object({ appSecret: z.string().check(z.minLength(1)) }), JSON.parse(value));
      return parsed.appSecret;
    }
    return value;
  } finally {
    client.destroy();
  }
};

/**
 * The transport: signed calls when RONGCLOUD_APP_KEY is set, else one log line per call. `rate`
 * replaces the notifier's share (`NOTIFIER_RATE_SHARE`) for other functions calling RongCloud.
 */
export const createTransport = async (
  env: NodeJS.ProcessEnv,
  log: Logger,
  rate?: { share: number; overrides?: RateOverrides },
): Promise<ImTransport> => {
  const { RONGCLOUD_APP_SECRET_ARN, NOTIFIER_RATE_SHARE } = parseEnv(envSchema, env);
  const secret = env.RONGCLOUD_APP_KEY && RONGCLOUD_APP_SECRET_ARN ? await fetchSecret(RONGCLOUD_APP_SECRET_ARN) : undefined;
  const config = rongCloudConfigFromEnv(env, secret);
  if (!config) {
    log.warn('RONGCLOUD_APP_KEY is not set: RongCloud calls are logged, not sent');
    return createLogTransport(log);
  }
  return createRongCloudClient({ ...config, rateShare: rate?.share ?? NOTIFIER_RATE_SHARE, rateOverrides: rate?.overrides }, { log });
};

export interface NotifierHandlerDeps {
  /** What the notifier reads and records (a `Store` has them all). */
  store: Pick<Store, 'members' | 'users' | 'imMirror' | 'deliveries'> & { groups: GroupReads };
  transport: () => Promise<ImTransport>;
  sqs: SQSClient;
  env: NodeJS.ProcessEnv;
  /** @default 60 s */
  leaseMs?: number;
}

const isPermanent = (error: unknown): boolean =>
  error instanceof UnprocessableEvent || (error instanceof ImCallFailed && !error.retryable);

/**
 * The SQS batch handler: records one by one (RongCloud's rates are per app), each event's failure
 * isolated. A transient failure is reported (`batchItemFailures`: the queue redelivers it later,
 * then dead-letters it); a permanent one (a RongCloud code that retrying cannot fix, an event
 * that does not parse) is sent straight to the dead-letter queue with its reason, not retried.
 */
export const createNotifierHandler = (deps: NotifierHandlerDeps) => {
  const { NOTIFIER_DLQ_URL } = parseEnv(envSchema, deps.env);
  const baseLog = logger.child({ function: 'notifier' });

  const deadLetter = async (record: SQSRecord, reason: string, log: Logger): Promise<boolean> => {
    if (!NOTIFIER_DLQ_URL) return false;
    try {
      await deps.sqs.send(
        new SendMessageCommand({
          QueueUrl: NOTIFIER_DLQ_URL,
          MessageBody: record.body,
          MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
        }),
      );
      return true;
    } catch (error) {
      log.error('could not dead-letter the event; the queue retries it', { error });
      return false;
    }
  };

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const transport = await deps.transport();
    const deadline = () => Date.now() + Math.max(1_000, (context?.getRemainingTimeInMillis() ?? 30_000) - DEADLINE_MARGIN_MS);
    const im = createRongCloudApi({ call: (path, form, options) => transport.call(path, form, { deadline: deadline(), ...options }) });
    const failures: SQSBatchResponse['batchItemFailures'] = [];

    const handle = async (record: SQSRecord): Promise<void> => {
      let log = baseLog.child({ messageId: record.messageId, receiveCount: record.attributes.ApproximateReceiveCount });
      try {
        const envelope = z.safeParse(z.object({ id: z.string(), 'detail-type': z.string(), detail: z.unknown() }), JSON.parse(record.body));
        if (!envelope.success) throw new UnprocessableEvent('message body is not an EventBridge event');
        const { 'detail-type': detailType, detail } = envelope.data;
        const eventId = (detail as { eventId?: unknown } | null)?.eventId;
        log = log.child({ detailType, eventId });
        const notifierDeps: NotifierDeps = {
          im,
          groups: deps.store.groups,
          members: deps.store.members,
          users: deps.store.users,
          mirror: deps.store.imMirror,
          ledger: deps.store.deliveries,
          leaseMs: deps.leaseMs ?? 60_000,
          now: Date.now,
          log,
        };
        const outcome = await notify(notifierDeps, detailType, detail);
        log.info(outcome === 'done' ? 'event delivered to IM' : 'duplicate event skipped');
      } catch (error) {
        if (isPermanent(error)) {
          const code = error instanceof ImCallFailed ? error.code : undefined;
          log.error('event dead-lettered: retrying cannot help', { error, code });
          if (await deadLetter(record, `${error instanceof Error ? error.message : String(error)}${code ? ` (code ${code})` : ''}`, log)) return;
        } else if (error instanceof DeliveryBusy) {
          log.info('event is being delivered elsewhere; retried later');
        } else {
          log.warn('event delivery failed; the queue retries it', { error });
        }
        failures.push({ itemIdentifier: record.messageId });
      }
    };
    // Records of a batch run a few at a time: RongCloud calls wait on the shared rate buckets, the
    // table round trips overlap. Order does not matter (see lib/im/sync.ts).
    const queue = [...event.Records];
    const worker = async (): Promise<void> => {
      for (let record = queue.shift(); record; record = queue.shift()) await handle(record);
    };
    await Promise.all(Array.from({ length: Math.min(RECORDS_AT_ONCE, queue.length) }, worker));
    return { batchItemFailures: failures };
  };
};
