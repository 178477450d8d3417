import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLogger, type Logger } from '#lib/log.ts';
import { compilePattern } from './event-pattern.ts';

/**
 * EventBridge + SQS emulation for `npm start` and the tests: the real SDK clients talk to it over
 * HTTP on loopback (`AWS_ENDPOINT_URL_EVENTBRIDGE` / `AWS_ENDPOINT_URL_SQS` = `endpoint`).
 *
 * - `AWSEvents.PutEvents` (AWS JSON 1.1): validated like EventBridge, wrapped in the EventBridge
 *   envelope and routed to every rule whose pattern matches (`./event-pattern.ts`).
 * - `AmazonSQS.SendMessage` / `AmazonSQS.SendMessageBatch` (AWS JSON 1.0, query-compatible): the
 *   queue is the last path segment of `QueueUrl`. A work queue (`queues`) gets the message as it
 *   was sent (body verbatim, message attributes, `DelaySeconds`) and its consumer drains it like an
 *   SQS rule target; any other queue is taken for a dead-letter queue, and the message is appended
 *   to `<dataDir>/dead-letters.jsonl`.
 * - Rule targets: an SQS queue drained by a Lambda event source mapping (batches, concurrency cap,
 *   partial batch responses, visibility-timeout backoff, maxReceiveCount → dead letter), or an
 *   asynchronous Lambda invocation (retries, then dead letter). Work queues are drained the same way
 *   as the SQS ones.
 * - `stop()` keeps what is still queued, for rules and work queues, in `<dataDir>/bus-pending.jsonl`;
 *   the next start reloads it into the same rule or queue.
 *
 * Requests are not signature-checked, exactly like local emulators.
 */

export interface SqsTarget {
  kind: 'sqs';
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  /** Records per invocation. @default 10 */
  batchSize?: number;
  /** Concurrent invocations, like the event source mapping's MaximumConcurrency. @default 2 */
  maxConcurrency?: number;
  /** Deliveries before the message goes to the dead-letter file, like the queue's maxReceiveCount. @default 5 */
  maxReceiveCount?: number;
  /** Wait before a failed message is visible again; doubles per receive (backoff), capped at 30 s. @default 200 ms */
  retryDelayMs?: number;
  queueName: string;
}

export interface LambdaTarget {
  kind: 'lambda';
  handler: (event: EventBridgeEvent<string, unknown>) => Promise<unknown>;
  /** Lambda's async retries. @default 2 */
  retryAttempts?: number;
  /** Wait before a retry; doubles per attempt, capped at 30 s. @default 200 ms */
  retryDelayMs?: number;
}

export interface LocalRule {
  name: string;
  pattern: Record<string, unknown>;
  target: SqsTarget | LambdaTarget;
}

/** A work queue's consumer: the event source mapping settings of an SQS target (the queue is the LocalQueue). */
export type QueueTarget = Omit<SqsTarget, 'kind' | 'queueName'>;

/**
 * An SQS queue producers send to directly (SendMessage, SendMessageBatch), drained by a Lambda
 * event source mapping, like `REGULAR_CLEAR_QUEUE` in `lib/routes.ts`.
 */
export interface LocalQueue {
  /** The last path segment of the QueueUrl producers use; SQS's rules (1–80 of A-Z a-z 0-9 - _), and no rule's queueName. */
  name: string;
  target: QueueTarget;
}

export interface LocalBusOptions {
  rules: readonly LocalRule[];
  /** Work queues: SendMessage(Batch) to `<endpoint>/<account>/<name>` reaches their target. @default [] */
  queues?: readonly LocalQueue[];
  /** Where `dead-letters.jsonl` and `bus-pending.jsonl` go. */
  dataDir: string;
  /** PutEvents with another EventBusName → that entry fails with ErrorCode 'ResourceNotFoundException'. @default 'default' */
  busName?: string;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  account?: string;
  /** @default 0 (a free port); listens on 127.0.0.1 */
  port?: number;
  /** One structured entry per delivery outcome (debug entries included); default: a JSON line on stdout, filtered by LOG_LEVEL. */
  log?: (entry: Record<string, unknown>) => void;
}

export interface LocalBus {
  /** http://127.0.0.1:<port> — usable as AWS_ENDPOINT_URL_EVENTBRIDGE and AWS_ENDPOINT_URL_SQS. */
  endpoint: string;
  /** Test hook: decides per entry whether PutEvents reports it as failed (ErrorCode 'InternalFailure'). */
  failEntries?: (entry: PutEventsRequestEntry, index: number) => boolean;
  /** Resolves when no message is queued, in flight, waiting for a retry or for its DelaySeconds (or after timeoutMs, default 5000: rejects). */
  idle(timeoutMs?: number): Promise<void>;
  /** Every event accepted so far (for tests/diagnostics), as the EventBridge envelope. */
  readonly published: readonly EventBridgeEvent<string, unknown>[];
  /** Stops accepting, waits up to `drainMs` (default 5000) for in-flight deliveries, then writes what is still queued to `<dataDir>/bus-pending.jsonl` and closes the server. */
  stop(drainMs?: number): Promise<void>;
}

/** Path of the dead-letter file: `<dataDir>/dead-letters.jsonl`. */
export const deadLetterFile = (dataDir: string): string => join(dataDir, 'dead-letters.jsonl');

/** Path of the file `stop()` leaves undelivered messages in: `<dataDir>/bus-pending.jsonl`. */
export const pendingFile = (dataDir: string): string => join(dataDir, 'bus-pending.jsonl');

type Envelope = EventBridgeEvent<string, unknown>;
type Level = 'debug' | 'info' | 'warn' | 'error';

const MAX_ENTRIES = 10;
/** EventBridge's limit on the summed entry sizes of one PutEvents request. */
const MAX_ENTRIES_SIZE = 256 * 1024;
/** Hard cap on a request body (JSON escaping can make 256 KB of entries larger on the wire). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_RETRY_DELAY_MS = 30_000;
const DEFAULT_IDLE_TIMEOUT_MS = 5_000;
const DEFAULT_DRAIN_MS = 5_000;
const STOPPING_MESSAGE = 'The local bus is stopping.';
/** SQS's limit on one message (body and attributes), and on the summed messages of one SendMessageBatch. */
const MAX_MESSAGE_BYTES = 256 * 1024;
const MAX_DELAY_SECONDS = 900;
const MAX_MESSAGE_ATTRIBUTES = 10;
/** SQS's queue names: they end a QueueUrl, so nothing that needs escaping in a path. */
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** Characters SQS accepts in a message body (anything else: InvalidMessageContents). */
const INVALID_BODY_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** A message attribute as SendMessage carries it (the SDK sends BinaryValue as base64). */
interface SentAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface MessageBase {
  messageId: string;
  /** The SQS body: `JSON.stringify(envelope)` for events (parsed afresh for each Lambda invocation), the MessageBody as sent for queue messages. */
  body: string;
  md5: string;
  receiveCount: number;
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  lastError?: string;
}

/** An accepted PutEvents entry on its way to one rule's target. */
interface EventMessage extends MessageBase {
  kind: 'event';
  envelope: Envelope;
}

/** A message sent to a work queue. */
interface QueueMessage extends MessageBase {
  kind: 'queue';
  attributes: Record<string, SentAttribute>;
  /** End of its DelaySeconds (epoch ms); kept across a restart so a delayed message is not delivered early. */
  visibleAt?: number;
}

type Message = EventMessage | QueueMessage;

/** One consumer's queue: a rule's target, or a work queue. */
interface DeliveryState {
  kind: 'rule' | 'queue';
  /** The rule's name, or the work queue's. */
  name: string;
  target: SqsTarget | LambdaTarget;
  batchSize: number;
  maxConcurrency: number;
  /** Deliveries before the dead-letter file (SQS: maxReceiveCount; Lambda: 1 + retryAttempts). */
  maxDeliveries: number;
  retryDelayMs: number;
  /** SQS queue name; for Lambda targets, the rule name. */
  queueName: string;
  arn: string;
  /** Visible messages, oldest first. */
  ready: Message[];
  /** Messages not visible yet: failed ones waiting for their retry delay, queue messages for their DelaySeconds. */
  waiting: Map<Message, NodeJS.Timeout>;
  inFlight: Set<Message>;
  active: number;
  pumpScheduled: boolean;
}

interface RuleState extends DeliveryState {
  kind: 'rule';
  match: (event: unknown) => boolean;
}

interface PendingFields {
  receiveCount: number;
  messageId?: string;
  sentTimestamp?: number;
  firstReceiveTimestamp?: number;
  lastError?: string;
}

/** A line of bus-pending.jsonl: an event for a rule, or a message for a work queue. */
type PendingLine =
  | (PendingFields & { rule: string; envelope: Envelope })
  | (PendingFields & { queue: string; body: string; attributes?: Record<string, SentAttribute>; visibleAt?: number });

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** The code of SQS's `x-amzn-query-error` header, which the SDK names its exception after. */
    readonly queryError: string = type,
  ) {
    super(message);
  }
}

/** An SQS error the SDK models with an awsQueryError code, e.g. `EmptyBatchRequest` ↔ `AWS.SimpleQueueService.EmptyBatchRequest`. */
const sqsModeledError = (name: string, message: string): RequestError =>
  new RequestError(400, `com.amazonaws.sqs#${name}`, message, `AWS.SimpleQueueService.${name}`);

/** A message SendMessage(Batch) asked for, checked like SQS does. */
interface OutgoingMessage {
  body: string;
  attributes: Record<string, SentAttribute>;
  delaySeconds: number;
}

/** Why SQS refuses one message: the exception of SendMessage, or the `Code` of a batch entry in `Failed`. */
class MessageRefusal {
  constructor(
    readonly code: string,
    readonly message: string,
  ) {}
}

const md5Hex = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const errorText = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** EventBridge's envelope time: ISO 8601 to the second, `2026-03-10T08:21:05Z`. */
const envelopeTime = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** SQS's MD5OfMessageAttributes (sorted names; length-prefixed name, type, transport byte, value). */
const md5OfMessageAttributes = (attributes: Record<string, unknown>): string => {
  const hash = createHash('md5');
  const lengthPrefixed = (bytes: Buffer): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name];
    if (!isPlainObject(attribute)) continue;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(String(attribute.DataType ?? ''), 'utf8'));
    if (typeof attribute.StringValue === 'string') {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(attribute.StringValue, 'utf8'));
    } else if (typeof attribute.BinaryValue === 'string') {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(attribute.BinaryValue, 'base64'));
    }
  }
  return hash.digest('hex');
};

const positiveInteger = (value: number | undefined, fallback: number, what: string, min = 1): number => {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min) throw new Error(`local bus: ${what} must be an integer >= ${min}, got ${n}`);
  return n;
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () =>
      tooLarge
        ? reject(new RequestError(413, 'RequestEntityTooLarge', `request body larger than ${MAX_BODY_BYTES} bytes`))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });

const entrySize = (entry: Record<string, unknown>): number => {
  let size = entry.Time !== undefined ? 14 : 0;
  for (const key of ['Source', 'DetailType', 'Detail'] as const) {
    const value = entry[key];
    if (typeof value === 'string') size += Buffer.byteLength(value, 'utf8');
  }
  if (Array.isArray(entry.Resources)) {
    for (const resource of entry.Resources) if (typeof resource === 'string') size += Buffer.byteLength(resource, 'utf8');
  }
  return size;
};

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

const entryError = (ErrorCode: string, ErrorMessage: string): EntryResult => ({ ErrorCode, ErrorMessage });

/** `Time` on the wire: the SDK sends epoch seconds (a number, with a fraction); ISO strings are accepted too. */
const parseTime = (value: unknown): number | undefined => {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string') {
    const ms = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
};

/** A bus-pending.jsonl line: a rule's event or a queue's message; undefined when it is neither. */
const parsePendingLine = (line: string): PendingLine | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed)) return undefined;
  if (typeof parsed.rule === 'string' && isPlainObject(parsed.envelope)) return parsed as unknown as PendingLine;
  if (typeof parsed.queue === 'string' && typeof parsed.body === 'string' && parsed.body !== '') {
    const { rule: _notARuleLine, ...queueLine } = parsed; // so that `'rule' in line` tells the two apart
    return queueLine as unknown as PendingLine;
  }
  return undefined;
};

/** The queue a QueueUrl names: its last path segment, as SQS's own URLs go (`…/<account>/<name>`). */
const queueNameOf = (queueUrl: string): string => queueUrl.split('/').filter(Boolean).pop() ?? queueUrl;

/** A message body as a dead-letter line keeps it: parsed when it is JSON, so the file stays readable. */
const parsedBody = (body: string): unknown => {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body; // not JSON: kept as the string it is
  }
};

/** SQS's size of a message: its body plus every attribute's name, data type and value. */
const messageSize = (body: unknown, attributes: unknown): number => {
  let size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : 0;
  if (!isPlainObject(attributes)) return size;
  for (const [name, attribute] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8');
    if (!isPlainObject(attribute)) continue;
    if (typeof attribute.DataType === 'string') size += Buffer.byteLength(attribute.DataType, 'utf8');
    if (typeof attribute.StringValue === 'string') size += Buffer.byteLength(attribute.StringValue, 'utf8');
    if (typeof attribute.BinaryValue === 'string') size += Buffer.byteLength(attribute.BinaryValue, 'base64');
  }
  return size;
};

/** SQS's rules for message attributes (≤ 10; names; String/Number/Binary types with a non-empty value of that kind). */
const checkAttributes = (raw: unknown): Record<string, SentAttribute> | MessageRefusal => {
  const invalid = (message: string): MessageRefusal => new MessageRefusal('InvalidParameterValue', message);
  if (raw === undefined || raw === null) return {};
  if (!isPlainObject(raw)) return invalid('MessageAttributes must be a map of attribute names to values.');
  const names = Object.keys(raw);
  if (names.length > MAX_MESSAGE_ATTRIBUTES) {
    return invalid(`Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`);
  }
  const attributes: Record<string, SentAttribute> = {};
  for (const name of names) {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..') || /^(aws|amazon)\./i.test(name)) {
      return invalid(`Message attribute name '${name}' is invalid.`);
    }
    const value = raw[name];
    const dataType = isPlainObject(value) ? value.DataType : undefined;
    if (!isPlainObject(value) || typeof dataType !== 'string' || !/^(String|Number|Binary)(\.[^\s]+)?$/.test(dataType) || dataType.length > 256) {
      return invalid(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    const binary = dataType.startsWith('Binary');
    const content = binary ? value.BinaryValue : value.StringValue;
    if (typeof content !== 'string' || content === '') {
      return invalid(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
    }
    if (!binary && dataType.startsWith('Number') && !Number.isFinite(Number(content))) {
      return invalid(`Can't cast the value of message (user) attribute '${name}' to a number.`);
    }
    attributes[name] = binary ? { DataType: dataType, BinaryValue: content } : { DataType: dataType, StringValue: content };
  }
  return attributes;
};

/** A SendMessage request or SendMessageBatch entry checked like SQS checks one it enqueues. */
const checkMessage = (raw: Record<string, unknown>): OutgoingMessage | MessageRefusal => {
  const body = raw.MessageBody;
  if (typeof body !== 'string' || body === '') return new MessageRefusal('MissingParameter', 'The request must contain the parameter MessageBody.');
  const bad = INVALID_BODY_CHARACTER.exec(body);
  if (bad) {
    const code = (bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase();
    return new MessageRefusal(
      'InvalidMessageContents',
      `Invalid binary character '#x${code}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
    );
  }
  const delay = raw.DelaySeconds ?? 0;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_SECONDS) {
    return new MessageRefusal(
      'InvalidParameterValue',
      `Value ${String(delay)} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= ${MAX_DELAY_SECONDS}.`,
    );
  }
  const attributes = checkAttributes(raw.MessageAttributes);
  if (attributes instanceof MessageRefusal) return attributes;
  if (messageSize(body, attributes) > MAX_MESSAGE_BYTES) {
    return new MessageRefusal('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`);
  }
  return { body, attributes, delaySeconds: delay };
};

/** SendMessageBatch's checks of the request as a whole, in SQS's order; the entries, each with a valid, distinct Id. */
const checkBatch = (entries: unknown): Record<string, unknown>[] => {
  if (entries === undefined || entries === null || (Array.isArray(entries) && entries.length === 0)) {
    throw sqsModeledError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
  }
  if (!Array.isArray(entries)) throw new RequestError(400, 'SerializationException', 'Entries must be a list of SendMessageBatchRequestEntry.');
  if (entries.length > MAX_ENTRIES) {
    throw sqsModeledError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_ENTRIES}. You have sent ${entries.length}.`);
  }
  const ids = new Set<string>();
  for (const [index, entry] of (entries as unknown[]).entries()) {
    const id = isPlainObject(entry) ? entry.Id : undefined;
    if (typeof id !== 'string' || id === '') throw new RequestError(400, 'MissingParameter', `The request must contain the parameter Entries.${index + 1}.Id.`);
    if (!BATCH_ENTRY_ID.test(id)) {
      throw sqsModeledError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (ids.has(id)) throw sqsModeledError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    ids.add(id);
  }
  const checked = entries as Record<string, unknown>[];
  const size = checked.reduce((sum, entry) => sum + messageSize(entry.MessageBody, entry.MessageAttributes), 0);
  if (size > MAX_MESSAGE_BYTES) {
    throw sqsModeledError('BatchRequestTooLong', `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes. You have sent ${size} bytes.`);
  }
  return checked;
};

/** Message attributes as the SQS event of a Lambda event source mapping carries them. */
const lambdaAttributes = (attributes: Record<string, SentAttribute>): SQSRecord['messageAttributes'] => {
  const out: SQSRecord['messageAttributes'] = {};
  for (const [name, a] of Object.entries(attributes)) {
    out[name] = {
      ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
      ...(a.BinaryValue !== undefined ? { binaryValue: a.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: a.DataType,
    };
  }
  return out;
};

export const startLocalBus = async (options: LocalBusOptions): Promise<LocalBus> => {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const busName = options.busName ?? 'default';
  const busArn = `arn:aws:events:${region}:${account}:event-bus/${busName}`;
  const dataDir = options.dataDir;
  mkdirSync(dataDir, { recursive: true });

  let defaultLogger: Logger | undefined;
  const log =
    options.log ??
    ((entry: Record<string, unknown>): void => {
      const { level, message, time: _time, ...fields } = entry;
      defaultLogger ??= createLogger({ component: 'local-bus' });
      const write = defaultLogger[(level as Level) in { debug: 1, info: 1, warn: 1, error: 1 } ? (level as Level) : 'info'];
      write(String(message), fields);
    });
  const emit = (level: Level, message: string, fields: Record<string, unknown>): void => {
    try {
      log({ level, time: new Date().toISOString(), message, ...fields });
    } catch {
      // A broken log sink must not break deliveries.
    }
  };

  // --- rules and work queues -----------------------------------------------------------------------

  /** A consumer's delivery settings, checked; `what` names it in errors (`rule "x"`, `queue "x"`). */
  const deliveryState = (kind: DeliveryState['kind'], name: string, target: SqsTarget | LambdaTarget, what: string): DeliveryState => {
    const sqs = target.kind === 'sqs';
    if (sqs && !target.queueName) throw new Error(`local bus: ${what}: queueName is required`);
    const retryDelayMs = target.retryDelayMs ?? 200;
    if (!(retryDelayMs >= 0)) throw new Error(`local bus: ${what}: retryDelayMs must be >= 0`);
    const queueName = sqs ? target.queueName : name;
    return {
      kind,
      name,
      target,
      batchSize: sqs ? positiveInteger(target.batchSize, 10, `${what} batchSize`) : 1,
      // Asynchronous invocations are not throttled locally (Lambda's account concurrency is 1000).
      maxConcurrency: sqs ? positiveInteger(target.maxConcurrency, 2, `${what} maxConcurrency`) : 1000,
      maxDeliveries: sqs
        ? positiveInteger(target.maxReceiveCount, 5, `${what} maxReceiveCount`)
        : positiveInteger(target.retryAttempts, 2, `${what} retryAttempts`, 0) + 1,
      retryDelayMs,
      queueName,
      arn: sqs ? `arn:aws:sqs:${region}:${account}:${queueName}` : `arn:aws:lambda:${region}:${account}:function:${name}`,
      ready: [],
      waiting: new Map(),
      inFlight: new Set(),
      active: 0,
      pumpScheduled: false,
    };
  };

  const states = new Map<string, RuleState>();
  for (const rule of options.rules) {
    if (!rule.name) throw new Error('local bus: every rule needs a name');
    if (states.has(rule.name)) throw new Error(`local bus: duplicate rule name "${rule.name}"`);
    let match: (event: unknown) => boolean;
    try {
      match = compilePattern(rule.pattern);
    } catch (error) {
      throw new Error(`local bus: rule "${rule.name}": ${(error as Error).message}`, { cause: error });
    }
    states.set(rule.name, { ...deliveryState('rule', rule.name, rule.target, `rule "${rule.name}"`), kind: 'rule', match });
  }

  // Keyed by queue name: a SendMessage(Batch) QueueUrl ends with it.
  const queues = new Map<string, DeliveryState>();
  const ruleQueues = new Map([...states.values()].filter((s) => s.target.kind === 'sqs').map((s) => [s.queueName, s.name]));
  for (const queue of options.queues ?? []) {
    if (!QUEUE_NAME.test(queue.name ?? '')) {
      throw new Error(`local bus: queue name ${JSON.stringify(queue.name)} is not valid (1 to 80 letters, digits, hyphens and underscores)`);
    }
    if (queues.has(queue.name)) throw new Error(`local bus: duplicate queue name "${queue.name}"`);
    // One queue, two feeds would make a rule's SQS events and producers' messages indistinguishable.
    const rule = ruleQueues.get(queue.name);
    if (rule !== undefined) throw new Error(`local bus: queue "${queue.name}" is already the queue of rule "${rule}"`);
    queues.set(queue.name, deliveryState('queue', queue.name, { ...queue.target, kind: 'sqs', queueName: queue.name }, `queue "${queue.name}"`));
  }

  /** Every consumer's state: the rules', then the work queues'. */
  const everyState = (): DeliveryState[] => [...states.values(), ...queues.values()];

  // --- state, idle, dead letters ----------------------------------------------------------------------

  const published: Envelope[] = [];
  let stopping = false;
  let stopped = false;
  const idleWaiters = new Set<() => void>();
  let drainWaiter: (() => void) | undefined;

  const outstanding = (): number => {
    let n = 0;
    for (const s of everyState()) n += s.ready.length + s.waiting.size + s.inFlight.size;
    return n;
  };
  const inFlightCount = (): number => {
    let n = 0;
    for (const s of everyState()) n += s.inFlight.size;
    return n;
  };
  const changed = (): void => {
    if (drainWaiter && inFlightCount() === 0) drainWaiter();
    if (idleWaiters.size > 0 && outstanding() === 0) for (const waiter of [...idleWaiters]) waiter();
  };

  const appendDeadLetter = (entry: Record<string, unknown>): void => {
    try {
      appendFileSync(deadLetterFile(dataDir), `${JSON.stringify(entry)}\n`);
    } catch (error) {
      emit('error', 'local bus could not write the dead-letter file', { file: deadLetterFile(dataDir), error: errorText(error), entry });
    }
  };

  /** The log fields that identify a message: the rule and event of an event, the queue of a queue message. */
  const messageFields = (state: DeliveryState, m: Message): Record<string, unknown> =>
    m.kind === 'event'
      ? {
          rule: state.name,
          target: state.target.kind,
          eventId: m.envelope.id,
          detailType: m.envelope['detail-type'],
          messageId: m.messageId,
          receiveCount: m.receiveCount,
        }
      : { queue: state.name, messageId: m.messageId, receiveCount: m.receiveCount };

  const deadLetter = (state: DeliveryState, m: Message): void => {
    const sqs = state.target.kind === 'sqs';
    const reason = sqs ? 'maxReceiveCount exceeded' : 'retryAttempts exhausted';
    const lastError = m.lastError !== undefined ? { lastError: m.lastError } : {};
    const time = new Date().toISOString();
    appendDeadLetter(
      m.kind === 'event'
        ? { time, queue: state.queueName, rule: state.name, reason, ...lastError, body: m.envelope, receiveCount: m.receiveCount, messageId: m.messageId }
        : {
            time,
            queue: state.queueName,
            reason,
            ...lastError,
            body: parsedBody(m.body),
            ...(Object.keys(m.attributes).length > 0 ? { attributes: m.attributes } : {}),
            receiveCount: m.receiveCount,
            messageId: m.messageId,
          },
    );
    emit('error', 'local bus dead-lettered a message', { ...messageFields(state, m), reason, lastError: m.lastError, file: deadLetterFile(dataDir) });
  };

  // --- delivery -------------------------------------------------------------------------------------

  const schedulePump = (state: DeliveryState): void => {
    if (state.pumpScheduled) return;
    state.pumpScheduled = true;
    // setImmediate, not a poll: the entries of one PutEvents request share a batch, and a message
    // reaches its handler within the same event-loop turn's check phase (well under a millisecond).
    setImmediate(() => pump(state));
  };

  const enqueue = (state: DeliveryState, m: Message): void => {
    state.ready.push(m);
    schedulePump(state);
  };

  /** Keeps `m` invisible for `delayMs`, then queues it: a failed message's visibility timeout, or a DelaySeconds. */
  const holdFor = (state: DeliveryState, m: Message, delayMs: number): void => {
    state.waiting.set(
      m,
      setTimeout(() => {
        state.waiting.delete(m);
        enqueue(state, m);
      }, delayMs),
    );
  };

  const sqsRecord = (state: DeliveryState, m: Message): SQSRecord => ({
    messageId: m.messageId,
    receiptHandle: Buffer.from(`${m.messageId}:${m.receiveCount}:${randomUUID()}`).toString('base64'),
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentTimestamp),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? Date.now()),
    },
    messageAttributes: m.kind === 'queue' ? lambdaAttributes(m.attributes) : {},
    md5OfBody: m.md5,
    eventSource: 'aws:sqs',
    eventSourceARN: state.arn,
    awsRegion: region,
  });

  /**
   * The messages of `batch` that failed according to a handler's return value, like Lambda's
   * ReportBatchItemFailures: an empty, missing or unknown itemIdentifier fails the whole batch.
   */
  const reportedFailures = (result: unknown, batch: readonly Message[]): { failed: Set<Message>; error?: string } => {
    if (!isPlainObject(result) || !Array.isArray(result.batchItemFailures)) return { failed: new Set() };
    const byId = new Map(batch.map((m) => [m.messageId, m]));
    const failed = new Set<Message>();
    for (const item of result.batchItemFailures as unknown[]) {
      const id = isPlainObject(item) ? item.itemIdentifier : undefined;
      const m = typeof id === 'string' ? byId.get(id) : undefined;
      if (!m) return { failed: new Set(batch), error: `invalid batchItemFailures itemIdentifier ${JSON.stringify(id) ?? 'undefined'}` };
      failed.add(m);
    }
    return { failed, error: 'reported in batchItemFailures' };
  };

  const settleFailure = (state: DeliveryState, m: Message): void => {
    if (m.receiveCount >= state.maxDeliveries) {
      deadLetter(state, m);
      return;
    }
    if (stopping) {
      // No new timers while stopping: the message is written to bus-pending.jsonl as it is.
      state.ready.push(m);
      emit('warn', 'local bus delivery failed', { ...messageFields(state, m), error: m.lastError, retry: 'after restart' });
      return;
    }
    const delay = Math.min(state.retryDelayMs * 2 ** (m.receiveCount - 1), MAX_RETRY_DELAY_MS);
    emit('warn', 'local bus delivery failed', { ...messageFields(state, m), error: m.lastError, retryInMs: delay });
    holdFor(state, m, delay);
  };

  const runBatch = async (state: DeliveryState, batch: Message[]): Promise<void> => {
    const now = Date.now();
    for (const m of batch) {
      m.receiveCount += 1;
      m.firstReceiveTimestamp ??= now;
    }
    let failed: Set<Message>;
    let error: string | undefined;
    const started = performance.now();
    try {
      if (state.target.kind === 'sqs') {
        const event: SQSEvent = { Records: batch.map((m) => sqsRecord(state, m)) };
        ({ failed, error } = reportedFailures(await state.target.handler(event), batch));
      } else {
        const m = batch[0] as Message;
        await state.target.handler(JSON.parse(m.body) as Envelope);
        failed = new Set();
      }
    } catch (thrown) {
      failed = new Set(batch);
      error = errorText(thrown);
    }
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    if (stopped) return; // drain timed out: these messages are already in bus-pending.jsonl
    for (const m of batch) {
      state.inFlight.delete(m);
      if (failed.has(m)) {
        m.lastError = error;
        settleFailure(state, m);
      } else {
        emit('debug', 'local bus delivered', { ...messageFields(state, m), durationMs, ageMs: Date.now() - m.sentTimestamp });
      }
    }
  };

  const pump = (state: DeliveryState): void => {
    state.pumpScheduled = false;
    while (!stopping && state.ready.length > 0 && state.active < state.maxConcurrency) {
      const batch = state.ready.splice(0, state.batchSize);
      for (const m of batch) state.inFlight.add(m);
      state.active += 1;
      void runBatch(state, batch).finally(() => {
        state.active -= 1;
        if (stopped) return;
        pump(state);
        changed();
      });
    }
  };

  const newEventMessage = (envelope: Envelope, body: string): EventMessage => ({
    kind: 'event',
    messageId: randomUUID(),
    envelope,
    body,
    md5: md5Hex(body),
    receiveCount: 0,
    sentTimestamp: Date.now(),
  });

  const newQueueMessage = (body: string, attributes: Record<string, SentAttribute>): QueueMessage => ({
    kind: 'queue',
    messageId: randomUUID(),
    body,
    attributes,
    md5: md5Hex(body),
    receiveCount: 0,
    sentTimestamp: Date.now(),
  });

  // --- restore what the previous run left -----------------------------------------------------------

  const pendingPath = pendingFile(dataDir);
  // Restored queue messages whose DelaySeconds has not run out yet: held once the server listens.
  const stillDelayed: { state: DeliveryState; m: QueueMessage; visibleAt: number }[] = [];
  if (existsSync(pendingPath)) {
    let restored = 0;
    for (const line of readFileSync(pendingPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const pending = parsePendingLine(line);
      const state = pending === undefined ? undefined : 'rule' in pending ? states.get(pending.rule) : queues.get(pending.queue);
      if (!pending || !state) {
        const owner = pending === undefined ? undefined : 'rule' in pending ? `rule "${pending.rule}"` : `queue "${pending.queue}"`;
        appendDeadLetter({
          time: new Date().toISOString(),
          queue: 'bus-pending',
          reason: owner ? `pending message for unknown ${owner}` : 'unreadable bus-pending.jsonl line',
          body: pending ?? line,
        });
        const fields = pending === undefined || 'rule' in pending ? { rule: pending?.rule } : { queue: pending.queue };
        emit('error', 'local bus dead-lettered a pending message it cannot deliver', { ...fields, file: deadLetterFile(dataDir) });
        continue;
      }
      const saved = {
        ...(typeof pending.messageId === 'string' ? { messageId: pending.messageId } : {}),
        ...(typeof pending.sentTimestamp === 'number' ? { sentTimestamp: pending.sentTimestamp } : {}),
        ...(typeof pending.firstReceiveTimestamp === 'number' ? { firstReceiveTimestamp: pending.firstReceiveTimestamp } : {}),
        ...(typeof pending.lastError === 'string' ? { lastError: pending.lastError } : {}),
        receiveCount: Number.isInteger(pending.receiveCount) && pending.receiveCount > 0 ? pending.receiveCount : 0,
      };
      if ('rule' in pending) {
        state.ready.push({ ...newEventMessage(pending.envelope, JSON.stringify(pending.envelope)), ...saved });
      } else {
        // Attributes are checked again: the line may have been edited by hand.
        const attributes = checkAttributes(pending.attributes);
        const m: QueueMessage = { ...newQueueMessage(pending.body, attributes instanceof MessageRefusal ? {} : attributes), ...saved };
        const visibleAt = pending.visibleAt;
        if (typeof visibleAt === 'number' && visibleAt > Date.now()) stillDelayed.push({ state, m: { ...m, visibleAt }, visibleAt });
        else state.ready.push(m);
      }
      restored += 1;
    }
    rmSync(pendingPath, { force: true });
    emit('info', 'local bus restored pending messages', { count: restored, file: pendingPath });
  }

  // --- PutEvents ------------------------------------------------------------------------------------

  const bus: LocalBus = {
    endpoint: '',
    failEntries: undefined,
    idle: (timeoutMs = DEFAULT_IDLE_TIMEOUT_MS) => {
      if (outstanding() === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = (): void => {
          clearTimeout(timer);
          idleWaiters.delete(waiter);
          resolve();
        };
        const timer = setTimeout(() => {
          idleWaiters.delete(waiter);
          const detail = everyState()
            .map((s) => `${s.kind === 'queue' ? `queue ${s.name}` : s.name}: ${s.ready.length} queued, ${s.inFlight.size} in flight, ${s.waiting.size} waiting for a retry`)
            .join('; ');
          reject(new Error(`local bus not idle after ${timeoutMs} ms (${detail})`));
        }, timeoutMs);
        idleWaiters.add(waiter);
      });
    },
    get published() {
      return published;
    },
    stop: (drainMs = DEFAULT_DRAIN_MS) => (stopPromise ??= stop(drainMs)),
  };
  let stopPromise: Promise<void> | undefined;

  const acceptEntry = (raw: unknown, index: number): { result: EntryResult; envelope?: Envelope } => {
    if (!isPlainObject(raw)) return { result: entryError('InvalidArgument', 'Entry is not valid.') };
    const required = (field: string): EntryResult =>
      entryError('InvalidArgument', `Parameter ${field} is not valid. Reason: ${field} is a required argument.`);
    if (typeof raw.Source !== 'string' || raw.Source === '') return { result: required('Source') };
    if (typeof raw.DetailType !== 'string' || raw.DetailType === '') return { result: required('DetailType') };
    if (typeof raw.Detail !== 'string' || raw.Detail === '') return { result: required('Detail') };
    let detail: unknown;
    try {
      detail = JSON.parse(raw.Detail);
    } catch {
      detail = undefined;
    }
    if (!isPlainObject(detail)) return { result: entryError('MalformedDetail', 'Detail is malformed.') };
    if (raw.EventBusName !== undefined && raw.EventBusName !== null && raw.EventBusName !== '') {
      const name = String(raw.EventBusName);
      if (name !== busName && name !== busArn) return { result: entryError('ResourceNotFoundException', `Event bus ${name} does not exist.`) };
    }
    let timeMs = Date.now();
    if (raw.Time !== undefined && raw.Time !== null) {
      const parsed = parseTime(raw.Time);
      if (parsed === undefined) return { result: entryError('InvalidArgument', 'Parameter Time is not valid.') };
      timeMs = parsed;
    }
    let resources: string[] = [];
    if (raw.Resources !== undefined && raw.Resources !== null) {
      if (!Array.isArray(raw.Resources) || !raw.Resources.every((r) => typeof r === 'string')) {
        return { result: entryError('InvalidArgument', 'Parameter Resources is not valid.') };
      }
      resources = raw.Resources as string[];
    }
    if (bus.failEntries) {
      const sdkEntry: PutEventsRequestEntry = {
        Source: raw.Source,
        DetailType: raw.DetailType,
        Detail: raw.Detail,
        Resources: resources,
        ...(raw.Time !== undefined && raw.Time !== null ? { Time: new Date(timeMs) } : {}),
        ...(typeof raw.EventBusName === 'string' ? { EventBusName: raw.EventBusName } : {}),
        ...(typeof raw.TraceHeader === 'string' ? { TraceHeader: raw.TraceHeader } : {}),
      };
      let fail: boolean;
      try {
        fail = bus.failEntries(sdkEntry, index);
      } catch {
        fail = true;
      }
      if (fail) return { result: entryError('InternalFailure', 'Internal failure (local bus failEntries hook).') };
    }
    const envelope: Envelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': raw.DetailType,
      source: raw.Source,
      account,
      time: envelopeTime(timeMs),
      region,
      resources,
      detail,
    };
    return { result: { EventId: envelope.id }, envelope };
  };

  const putEvents = (request: Record<string, unknown>): unknown => {
    const entries = request.Entries;
    if (!Array.isArray(entries)) {
      throw new RequestError(400, 'ValidationException', "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      throw new RequestError(
        400,
        'ValidationException',
        `1 validation error detected: Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length ${
          entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`
        }`,
      );
    }
    const size = entries.reduce((sum: number, entry) => sum + (isPlainObject(entry) ? entrySize(entry) : 0), 0);
    if (size > MAX_ENTRIES_SIZE) throw new RequestError(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
    if (stopping) {
      const failure = entryError('InternalFailure', STOPPING_MESSAGE);
      return { FailedEntryCount: entries.length, Entries: entries.map(() => failure) };
    }
    const results = entries.map(acceptEntry);
    for (const { envelope } of results) {
      if (!envelope) continue;
      published.push(envelope);
      const body = JSON.stringify(envelope);
      for (const state of states.values()) if (state.match(envelope)) enqueue(state, newEventMessage(envelope, body));
    }
    const failedCount = results.filter(({ result }) => 'ErrorCode' in result).length;
    return { FailedEntryCount: failedCount, Entries: results.map(({ result }) => result) };
  };

  // --- SendMessage, SendMessageBatch ---------------------------------------------------------------

  /** A message for any queue but a work queue: it is taken for a dead-letter queue's, and kept in the dead-letter file. */
  const sendToDeadLetterQueue = (queue: string, messageBody: string, attributes: Record<string, unknown>): string => {
    const reasonAttribute = attributes.reason;
    const reason = isPlainObject(reasonAttribute) && typeof reasonAttribute.StringValue === 'string' ? reasonAttribute.StringValue : 'sent to DLQ';
    const body = parsedBody(messageBody);
    const messageId = randomUUID();
    appendDeadLetter({ time: new Date().toISOString(), queue, reason, body, attributes, messageId });
    const envelope = isPlainObject(body) ? body : {};
    emit('error', 'local bus message sent to a dead-letter queue', {
      queue,
      reason,
      messageId,
      eventId: envelope.id,
      detailType: envelope['detail-type'],
      file: deadLetterFile(dataDir),
    });
    return messageId;
  };

  /** A message for a work queue: visible at once, or once its DelaySeconds are over. */
  const sendToWorkQueue = (state: DeliveryState, sent: OutgoingMessage): string => {
    const m = newQueueMessage(sent.body, sent.attributes);
    if (sent.delaySeconds > 0) {
      m.visibleAt = m.sentTimestamp + sent.delaySeconds * 1000;
      holdFor(state, m, sent.delaySeconds * 1000);
    } else {
      enqueue(state, m);
    }
    return m.messageId;
  };

  /** What SQS answers for one sent message (the SDK checks MD5OfMessageBody). */
  const sendResult = (messageId: string, body: string, attributes: Record<string, unknown>): Record<string, string> => ({
    MessageId: messageId,
    MD5OfMessageBody: md5Hex(body),
    ...(Object.keys(attributes).length > 0 ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
  });

  const missing = (name: string): RequestError => new RequestError(400, 'MissingParameter', `The request must contain the parameter ${name}.`);

  /** The queue a request is for (the last path segment of its QueueUrl), and its work queue if it is one. */
  const queueOf = (request: Record<string, unknown>): { queue: string; state: DeliveryState | undefined } => {
    if (typeof request.QueueUrl !== 'string' || request.QueueUrl === '') throw missing('QueueUrl');
    const queue = queueNameOf(request.QueueUrl);
    return { queue, state: queues.get(queue) };
  };

  const sendMessage = (request: Record<string, unknown>): unknown => {
    const { queue, state } = queueOf(request);
    if (!state) {
      // A dead-letter queue takes what it is given: a consumer's last word about a message must not be lost.
      if (typeof request.MessageBody !== 'string' || request.MessageBody === '') throw missing('MessageBody');
      const attributes = isPlainObject(request.MessageAttributes) ? request.MessageAttributes : {};
      return sendResult(sendToDeadLetterQueue(queue, request.MessageBody, attributes), request.MessageBody, attributes);
    }
    const sent = checkMessage(request);
    if (sent instanceof MessageRefusal) throw new RequestError(400, sent.code, sent.message);
    // Like PutEvents while stopping: refused rather than accepted after bus-pending.jsonl is written.
    if (stopping) throw new RequestError(500, 'InternalFailure', STOPPING_MESSAGE);
    return sendResult(sendToWorkQueue(state, sent), sent.body, sent.attributes);
  };

  const sendMessageBatch = (request: Record<string, unknown>): unknown => {
    const { queue, state } = queueOf(request);
    const entries = checkBatch(request.Entries);
    const successful: Record<string, unknown>[] = [];
    const failed: Record<string, unknown>[] = [];
    for (const entry of entries) {
      const id = entry.Id as string; // checked by checkBatch
      const sent = checkMessage(entry);
      if (sent instanceof MessageRefusal) {
        failed.push({ Id: id, SenderFault: true, Code: sent.code, Message: sent.message });
      } else if (state && stopping) {
        failed.push({ Id: id, SenderFault: false, Code: 'InternalFailure', Message: STOPPING_MESSAGE });
      } else {
        // DelaySeconds means nothing to a dead-letter file: the message is written at once.
        const messageId = state ? sendToWorkQueue(state, sent) : sendToDeadLetterQueue(queue, sent.body, sent.attributes);
        successful.push({ Id: id, ...sendResult(messageId, sent.body, sent.attributes) });
      }
    }
    return { Successful: successful, Failed: failed };
  };

  // --- HTTP -----------------------------------------------------------------------------------------

  const send = (res: ServerResponse, status: number, contentType: string, payload: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
      ...headers,
    });
    res.end(text);
  };

  const operations = new Map<string, (request: Record<string, unknown>) => unknown>([
    ['AWSEvents.PutEvents', putEvents],
    ['AmazonSQS.SendMessage', sendMessage],
    ['AmazonSQS.SendMessageBatch', sendMessageBatch],
  ]);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const sqs = target.startsWith('AmazonSQS.');
    const contentType = sqs ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    try {
      const text = await readBody(req);
      const operation = operations.get(target);
      if (req.method !== 'POST' || !operation) {
        throw new RequestError(400, 'UnknownOperationException', `The local bus does not implement ${req.method} ${target || '(no X-Amz-Target)'}.`);
      }
      let request: unknown;
      try {
        request = text === '' ? {} : JSON.parse(text);
      } catch {
        throw new RequestError(400, 'SerializationException', 'The request body is not valid JSON.');
      }
      if (!isPlainObject(request)) throw new RequestError(400, 'SerializationException', 'The request body is not a JSON object.');
      send(res, 200, contentType, operation(request));
    } catch (error) {
      const known = error instanceof RequestError ? error : new RequestError(500, 'InternalFailure', errorText(error));
      if (!(error instanceof RequestError)) emit('error', 'local bus request failed', { target, error: known.message });
      // SQS's JSON protocol is query-compatible: the SDK reads the error code from x-amzn-query-error.
      const headers: Record<string, string> = sqs ? { 'x-amzn-query-error': `${known.queryError};${known.status >= 500 ? 'Receiver' : 'Sender'}` } : {};
      send(res, known.status, contentType, { __type: known.type, message: known.message }, headers);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  bus.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const { state, m, visibleAt } of stillDelayed) holdFor(state, m, visibleAt - Date.now());
  for (const state of everyState()) if (state.ready.length > 0) schedulePump(state);

  // --- stop -----------------------------------------------------------------------------------------

  const stop = async (drainMs: number): Promise<void> => {
    stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const state of everyState()) {
      for (const [m, timer] of state.waiting) {
        clearTimeout(timer);
        state.ready.push(m);
      }
      state.waiting.clear();
    }
    if (inFlightCount() > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        drainWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      drainWaiter = undefined;
    }
    stopped = true;
    const lines: string[] = [];
    const now = Date.now();
    for (const state of everyState()) {
      for (const m of [...state.inFlight, ...state.ready]) {
        const fields: PendingFields = {
          receiveCount: m.receiveCount,
          messageId: m.messageId,
          sentTimestamp: m.sentTimestamp,
          ...(m.firstReceiveTimestamp !== undefined ? { firstReceiveTimestamp: m.firstReceiveTimestamp } : {}),
          ...(m.lastError !== undefined ? { lastError: m.lastError } : {}),
        };
        const line: PendingLine =
          m.kind === 'event'
            ? { rule: state.name, envelope: m.envelope, ...fields }
            : {
                queue: state.name,
                body: m.body,
                ...(Object.keys(m.attributes).length > 0 ? { attributes: m.attributes } : {}),
                ...fields,
                ...(m.visibleAt !== undefined && m.visibleAt > now ? { visibleAt: m.visibleAt } : {}),
              };
        lines.push(JSON.stringify(line));
      }
      state.inFlight.clear();
      state.ready.length = 0;
    }
    if (lines.length > 0) {
      // Appended, never overwritten: nothing another run left is clobbered.
      appendFileSync(pendingPath, `${lines.join('\n')}\n`);
      emit('info', 'local bus kept undelivered messages for the next start', { count: lines.length, file: pendingPath });
    }
    for (const waiter of [...idleWaiters]) waiter();
    server.closeAllConnections();
    await closed;
  };

  return bus;
};
