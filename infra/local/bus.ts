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
 * EventBridge emulation for `npm start` and the tests: the real SDK clients talk to it over HTTP on
 * loopback (`AWS_ENDPOINT_URL_EVENTBRIDGE` / `AWS_ENDPOINT_URL_SQS` = `endpoint`).
 *
 * - `AWSEvents.PutEvents` (AWS JSON 1.1): validated like EventBridge, wrapped in the EventBridge
 *   envelope and routed to every rule whose pattern matches (`./event-pattern.ts`).
 * - `AmazonSQS.SendMessage` (AWS JSON 1.0, query-compatible): only for messages sent straight to a
 *   dead-letter queue; they are appended to `<dataDir>/dead-letters.jsonl`.
 * - Rule targets: an SQS queue drained by a Lambda event source mapping (batches, concurrency cap,
 *   partial batch responses, visibility-timeout backoff, maxReceiveCount → dead letter), or an
 *   asynchronous Lambda invocation (retries, then dead letter).
 * - `stop()` keeps what is still queued in `<dataDir>/bus-pending.jsonl`; the next start reloads it.
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

export interface LocalBusOptions {
  rules: readonly LocalRule[];
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
  /** Resolves when no message is queued, in flight or waiting for a retry (or after timeoutMs, default 5000: rejects). */
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

interface Message {
  messageId: string;
  envelope: Envelope;
  /** `JSON.stringify(envelope)`: the SQS body; parsed afresh for each Lambda invocation. */
  body: string;
  md5: string;
  receiveCount: number;
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  lastError?: string;
}

interface RuleState {
  name: string;
  target: SqsTarget | LambdaTarget;
  match: (event: unknown) => boolean;
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
  /** Failed messages waiting for their retry delay. */
  waiting: Map<Message, NodeJS.Timeout>;
  inFlight: Set<Message>;
  active: number;
  pumpScheduled: boolean;
}

interface PendingLine {
  rule: string;
  envelope: Envelope;
  receiveCount: number;
  messageId?: string;
  sentTimestamp?: number;
  firstReceiveTimestamp?: number;
  lastError?: string;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
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

  // --- rules ----------------------------------------------------------------------------------------

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
    const target = rule.target;
    const sqs = target.kind === 'sqs';
    if (sqs && !target.queueName) throw new Error(`local bus: rule "${rule.name}": queueName is required`);
    const retryDelayMs = target.retryDelayMs ?? 200;
    if (!(retryDelayMs >= 0)) throw new Error(`local bus: rule "${rule.name}": retryDelayMs must be >= 0`);
    const queueName = sqs ? target.queueName : rule.name;
    states.set(rule.name, {
      name: rule.name,
      target,
      match,
      batchSize: sqs ? positiveInteger(target.batchSize, 10, `rule "${rule.name}" batchSize`) : 1,
      // Asynchronous invocations are not throttled locally (Lambda's account concurrency is 1000).
      maxConcurrency: sqs ? positiveInteger(target.maxConcurrency, 2, `rule "${rule.name}" maxConcurrency`) : 1000,
      maxDeliveries: sqs
        ? positiveInteger(target.maxReceiveCount, 5, `rule "${rule.name}" maxReceiveCount`)
        : positiveInteger(target.retryAttempts, 2, `rule "${rule.name}" retryAttempts`, 0) + 1,
      retryDelayMs,
      queueName,
      arn: sqs ? `arn:aws:sqs:${region}:${account}:${queueName}` : `arn:aws:lambda:${region}:${account}:function:${rule.name}`,
      ready: [],
      waiting: new Map(),
      inFlight: new Set(),
      active: 0,
      pumpScheduled: false,
    });
  }

  // --- state, idle, dead letters ----------------------------------------------------------------------

  const published: Envelope[] = [];
  let stopping = false;
  let stopped = false;
  const idleWaiters = new Set<() => void>();
  let drainWaiter: (() => void) | undefined;

  const outstanding = (): number => {
    let n = 0;
    for (const s of states.values()) n += s.ready.length + s.waiting.size + s.inFlight.size;
    return n;
  };
  const inFlightCount = (): number => {
    let n = 0;
    for (const s of states.values()) n += s.inFlight.size;
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

  const messageFields = (state: RuleState, m: Message): Record<string, unknown> => ({
    rule: state.name,
    target: state.target.kind,
    eventId: m.envelope.id,
    detailType: m.envelope['detail-type'],
    messageId: m.messageId,
    receiveCount: m.receiveCount,
  });

  const deadLetter = (state: RuleState, m: Message): void => {
    const sqs = state.target.kind === 'sqs';
    const reason = sqs ? 'maxReceiveCount exceeded' : 'retryAttempts exhausted';
    appendDeadLetter({
      time: new Date().toISOString(),
      queue: state.queueName,
      rule: state.name,
      reason,
      ...(m.lastError !== undefined ? { lastError: m.lastError } : {}),
      body: m.envelope,
      receiveCount: m.receiveCount,
      messageId: m.messageId,
    });
    emit('error', 'local bus dead-lettered a message', { ...messageFields(state, m), reason, lastError: m.lastError, file: deadLetterFile(dataDir) });
  };

  // --- delivery -------------------------------------------------------------------------------------

  const schedulePump = (state: RuleState): void => {
    if (state.pumpScheduled) return;
    state.pumpScheduled = true;
    // setImmediate, not a poll: the entries of one PutEvents request share a batch, and a message
    // reaches its handler within the same event-loop turn's check phase (well under a millisecond).
    setImmediate(() => pump(state));
  };

  const enqueue = (state: RuleState, m: Message): void => {
    state.ready.push(m);
    schedulePump(state);
  };

  const sqsRecord = (state: RuleState, m: Message): SQSRecord => ({
    messageId: m.messageId,
    receiptHandle: Buffer.from(`${m.messageId}:${m.receiveCount}:${randomUUID()}`).toString('base64'),
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentTimestamp),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? Date.now()),
    },
    messageAttributes: {},
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

  const settleFailure = (state: RuleState, m: Message): void => {
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
    state.waiting.set(
      m,
      setTimeout(() => {
        state.waiting.delete(m);
        enqueue(state, m);
      }, delay),
    );
  };

  const runBatch = async (state: RuleState, batch: Message[]): Promise<void> => {
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

  const pump = (state: RuleState): void => {
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

  const newMessage = (envelope: Envelope, body: string): Message => ({
    messageId: randomUUID(),
    envelope,
    body,
    md5: md5Hex(body),
    receiveCount: 0,
    sentTimestamp: Date.now(),
  });

  // --- restore what the previous run left -----------------------------------------------------------

  const pendingPath = pendingFile(dataDir);
  if (existsSync(pendingPath)) {
    let restored = 0;
    for (const line of readFileSync(pendingPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let pending: PendingLine | undefined;
      try {
        const parsed = JSON.parse(line) as unknown;
        if (isPlainObject(parsed) && typeof parsed.rule === 'string' && isPlainObject(parsed.envelope)) pending = parsed as unknown as PendingLine;
      } catch {
        // handled below
      }
      const state = pending ? states.get(pending.rule) : undefined;
      if (!pending || !state) {
        appendDeadLetter({
          time: new Date().toISOString(),
          queue: 'bus-pending',
          reason: pending ? `pending message for unknown rule "${pending.rule}"` : 'unreadable bus-pending.jsonl line',
          body: pending ?? line,
        });
        emit('error', 'local bus dead-lettered a pending message it cannot deliver', { rule: pending?.rule, file: deadLetterFile(dataDir) });
        continue;
      }
      const body = JSON.stringify(pending.envelope);
      state.ready.push({
        ...newMessage(pending.envelope, body),
        ...(typeof pending.messageId === 'string' ? { messageId: pending.messageId } : {}),
        ...(typeof pending.sentTimestamp === 'number' ? { sentTimestamp: pending.sentTimestamp } : {}),
        ...(typeof pending.firstReceiveTimestamp === 'number' ? { firstReceiveTimestamp: pending.firstReceiveTimestamp } : {}),
        ...(typeof pending.lastError === 'string' ? { lastError: pending.lastError } : {}),
        receiveCount: Number.isInteger(pending.receiveCount) && pending.receiveCount > 0 ? pending.receiveCount : 0,
      });
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
          const detail = [...states.values()]
            .map((s) => `${s.name}: ${s.ready.length} queued, ${s.inFlight.size} in flight, ${s.waiting.size} waiting for a retry`)
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
      const failure = entryError('InternalFailure', 'The local bus is stopping.');
      return { FailedEntryCount: entries.length, Entries: entries.map(() => failure) };
    }
    const results = entries.map(acceptEntry);
    for (const { envelope } of results) {
      if (!envelope) continue;
      published.push(envelope);
      const body = JSON.stringify(envelope);
      for (const state of states.values()) if (state.match(envelope)) enqueue(state, newMessage(envelope, body));
    }
    const failedCount = results.filter(({ result }) => 'ErrorCode' in result).length;
    return { FailedEntryCount: failedCount, Entries: results.map(({ result }) => result) };
  };

  // --- SendMessage (dead-letter queue) ----------------------------------------------------------------

  const sendMessage = (request: Record<string, unknown>): unknown => {
    const missing = (name: string): RequestError => new RequestError(400, 'MissingParameter', `The request must contain the parameter ${name}.`);
    if (typeof request.QueueUrl !== 'string' || request.QueueUrl === '') throw missing('QueueUrl');
    if (typeof request.MessageBody !== 'string' || request.MessageBody === '') throw missing('MessageBody');
    const queue = request.QueueUrl.split('/').filter(Boolean).pop() ?? request.QueueUrl;
    const attributes = isPlainObject(request.MessageAttributes) ? request.MessageAttributes : {};
    const reasonAttribute = attributes.reason;
    const reason = isPlainObject(reasonAttribute) && typeof reasonAttribute.StringValue === 'string' ? reasonAttribute.StringValue : 'sent to DLQ';
    let body: unknown = request.MessageBody;
    try {
      body = JSON.parse(request.MessageBody);
    } catch {
      // not JSON: kept as the string it is
    }
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
    return {
      MessageId: messageId,
      MD5OfMessageBody: md5Hex(request.MessageBody),
      ...(Object.keys(attributes).length > 0 ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
    };
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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const sqs = target.startsWith('AmazonSQS.');
    const contentType = sqs ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    try {
      const text = await readBody(req);
      if (req.method !== 'POST' || (target !== 'AWSEvents.PutEvents' && target !== 'AmazonSQS.SendMessage')) {
        throw new RequestError(400, 'UnknownOperationException', `The local bus does not implement ${req.method} ${target || '(no X-Amz-Target)'}.`);
      }
      let request: unknown;
      try {
        request = text === '' ? {} : JSON.parse(text);
      } catch {
        throw new RequestError(400, 'SerializationException', 'The request body is not valid JSON.');
      }
      if (!isPlainObject(request)) throw new RequestError(400, 'SerializationException', 'The request body is not a JSON object.');
      send(res, 200, contentType, sqs ? sendMessage(request) : putEvents(request));
    } catch (error) {
      const known = error instanceof RequestError ? error : new RequestError(500, 'InternalFailure', errorText(error));
      if (!(error instanceof RequestError)) emit('error', 'local bus request failed', { target, error: known.message });
      // SQS's JSON protocol is query-compatible: the SDK reads the error code from x-amzn-query-error.
      const headers: Record<string, string> = sqs ? { 'x-amzn-query-error': `${known.type};${known.status >= 500 ? 'Receiver' : 'Sender'}` } : {};
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
  for (const state of states.values()) if (state.ready.length > 0) schedulePump(state);

  // --- stop -----------------------------------------------------------------------------------------

  const stop = async (drainMs: number): Promise<void> => {
    stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const state of states.values()) {
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
    for (const state of states.values()) {
      for (const m of [...state.inFlight, ...state.ready]) {
        const line: PendingLine = {
          rule: state.name,
          envelope: m.envelope,
          receiveCount: m.receiveCount,
          messageId: m.messageId,
          sentTimestamp: m.sentTimestamp,
          ...(m.firstReceiveTimestamp !== undefined ? { firstReceiveTimestamp: m.firstReceiveTimestamp } : {}),
          ...(m.lastError !== undefined ? { lastError: m.lastError } : {}),
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
