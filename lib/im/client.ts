import { createHash, randomBytes } from 'node:crypto';
import { logger as rootLogger, type Logger } from '../log.ts';
import { metrics } from '../metrics.ts';
import { createRateLimits, rateCost, type RateOverrides } from './rate.ts';
import * as z from 'zod/mini';
import { coercedNumber, preprocess } from '../zod.ts';

/**
 * The RongCloud server API transport: signed form POSTs, retries with backoff for transient failures
 * until a deadline, failover between the primary and backup API hosts, and client-side rate limits.
 *
 * One client per container: the current API host and the rate buckets live in the instance.
 */

export type FormValue = string | number | readonly string[];
/** `undefined` values are omitted; arrays are sent as repeated keys (`userId=1&userId=2`). */
export type Form = Record<string, FormValue | undefined>;

export interface RongCloudConfig {
  appKey: string;
  appSecret: string;
  /** Primary first, then backup. At least one. */
  baseUrls: readonly string[];
  /** Unit of the signed `Timestamp` header. @default 's' */
  timestampUnit?: 's' | 'ms';
  /** Per-request timeout. @default 10_000 */
  timeoutMs?: number;
  /** Divides every rate limit (see rate.ts): the number of containers calling at once. @default 1 */
  rateShare?: number;
  /** Lower limits for some families (for the whole App Key, before the share): see rate.ts. */
  rateOverrides?: RateOverrides;
}

export interface CallOptions {
  /** Epoch ms after which no new attempt starts. Default: now + 20 s. */
  deadline?: number;
}

export interface ImTransport {
  /** POST <base>/<path> (path like '/group/create.json'); resolves with the parsed JSON body when code is 200. */
  call(path: string, form: Form, options?: CallOptions): Promise<Record<string, unknown>>;
}

/**
 * A call that did not succeed. `retryable: true`: it kept failing transiently until the deadline
 * (let the queue retry later); `retryable: false`: RongCloud rejected it for good (dead-letter it).
 */
export class ImCallFailed extends Error {
  readonly path: string;
  readonly code?: number;
  readonly httpStatus?: number;
  readonly retryable: boolean;

  constructor(init: { path: string; code?: number; httpStatus?: number; retryable: boolean; message: string }) {
    super(init.message);
    this.name = 'ImCallFailed';
    this.path = init.path;
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.retryable = init.retryable;
  }
}

export const DEFAULT_API_URLS = ['https://api.rong-api.com', 'https://api-b.rong-api.com'] as const;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_DEADLINE_MS = 20_000;
/** A failover does not happen within this long of the previous one. */
export const FAILOVER_HOLD_MS = 30_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** An attempt gets the time left before the deadline, but at least this much (or the timeout if shorter). */
const MIN_ATTEMPT_MS = 1_000;

/** Codes never retried whatever the HTTP status: configuration or request errors. */
const PERMANENT_CODES = new Set([1001, 1002, 1003, 1004, 1005, 1009]);
/** Codes RongCloud asks to retry later: internal error, rate limit, internal timeout. */
const TRANSIENT_CODES = new Set([1000, 1008, 1050]);

/** The url-encoded body: arrays become repeated keys, `undefined` values are left out. */
export const encodeForm = (form: Form): URLSearchParams => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    if (value === undefined) continue;
    if (typeof value === 'object') for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  return params;
};

/** `Signature`: lower-case hex SHA1 of AppSecret + Nonce + Timestamp. */
export const sign = (appSecret: string, nonce: string, timestamp: string): string =>
  createHash('sha1').update(`${appSecret}${nonce}${timestamp}`).digest('hex');

/** Fresh auth headers for one request. The Nonce is 18 hex characters (RongCloud allows at most 18). */
export const authHeaders = (
  config: Pick<RongCloudConfig, 'appKey' | 'appSecret' | 'timestampUnit'>,
  nowMs: number,
): Record<string, string> => {
  const nonce = randomBytes(9).toString('hex');
  const timestamp = String(config.timestampUnit === 'ms' ? Math.floor(nowMs) : Math.floor(nowMs / 1000));
  return { 'App-Key': config.appKey, Nonce: nonce, Timestamp: timestamp, Signature: sign(config.appSecret, nonce, timestamp) };
};

type Outcome =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; retryable: boolean; failover: boolean; code?: number; httpStatus?: number; errorMessage: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Decides what an answer means: success, transient (retry, maybe on the other host) or permanent. */
export const classifyAnswer = (httpStatus: number, text: string): Outcome => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const code = isRecord(body) && typeof body.code === 'number' ? body.code : undefined;
  if (httpStatus === 200 && code === 200 && isRecord(body)) return { ok: true, body };
  const errorMessage =
    isRecord(body) && typeof body.errorMessage === 'string' ? body.errorMessage : text.slice(0, 200) || `HTTP ${httpStatus}`;
  const failed = { ok: false as const, code, httpStatus, errorMessage };
  if (code !== undefined && (PERMANENT_CODES.has(code) || (code >= 1500 && code < 1600))) {
    return { ...failed, retryable: false, failover: false };
  }
  if (httpStatus >= 500) return { ...failed, retryable: true, failover: true };
  if (httpStatus === 429 || (code !== undefined && TRANSIENT_CODES.has(code))) return { ...failed, retryable: true, failover: false };
  return { ...failed, retryable: false, failover: false };
};

const describeNetworkError = (error: unknown, timeoutMs: number): string => {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timeout after ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return detail === undefined ? message : `${message}: ${detail}`;
};

export interface ClientDeps {
  log?: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the backoff jitter. */
  random?: () => number;
  fetch?: typeof fetch;
}

export const createRongCloudClient = (config: RongCloudConfig, deps: ClientDeps = {}): ImTransport => {
  if (config.baseUrls.length === 0) throw new Error('RongCloud client needs at least one base URL');
  const log = deps.log ?? rootLogger.child({ component: 'rongcloud' });
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = deps.random ?? Math.random;
  const fetchFn = deps.fetch ?? fetch;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const baseUrls = config.baseUrls.map((url) => url.replace(/\/+$/, ''));
  const limits = createRateLimits(config.rateShare ?? 1, { now, sleep }, config.rateOverrides);

  let current = 0;
  let lastSwapAt = -Infinity;

  /** Moves off the host that just failed, unless another call already did or the last swap is recent. */
  const failoverFrom = (index: number): void => {
    if (baseUrls.length < 2 || current !== index) return;
    const at = now();
    if (at - lastSwapAt < FAILOVER_HOLD_MS) return;
    current = (index + 1) % baseUrls.length;
    lastSwapAt = at;
    log.warn('rongcloud failover', { from: baseUrls[index], to: baseUrls[current] });
  };

  const send = async (url: string, body: string, attemptTimeoutMs: number): Promise<Outcome> => {
    try {
      const response = await fetchFn(url, {
        method: 'POST',
        headers: {
          ...authHeaders(config, now()),
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
          Connection: 'close',
        },
        body,
        signal: AbortSignal.timeout(attemptTimeoutMs),
      });
      return classifyAnswer(response.status, await response.text());
    } catch (error) {
      return { ok: false, retryable: true, failover: true, errorMessage: describeNetworkError(error, attemptTimeoutMs) };
    }
  };

  /** The attempts of one call; `tries.count` is the number of attempts started (or about to start). */
  const attemptCall = async (path: string, form: Form, options: CallOptions, tries: { count: number }): Promise<Record<string, unknown>> => {
    const deadline = options.deadline ?? now() + DEFAULT_DEADLINE_MS;
    const body = encodeForm(form).toString();
    const { family, cost } = rateCost(path, form);
    let last: Extract<Outcome, { ok: false }> | undefined;
    for (let attempt = 1; ; attempt++) {
      tries.count = attempt;
      await limits[family].acquire(cost);
      const remaining = deadline - now();
      if (remaining <= 0) {
        throw new ImCallFailed({
          path,
          code: last?.code,
          httpStatus: last?.httpStatus,
          retryable: true,
          message: `${path}: deadline passed before attempt ${attempt}${last ? ` (last error: ${last.errorMessage})` : ''}`,
        });
      }
      const index = current;
      const baseUrl = baseUrls[index] as string;
      const outcome = await send(`${baseUrl}${path}`, body, Math.min(timeoutMs, Math.max(remaining, MIN_ATTEMPT_MS)));
      if (outcome.ok) {
        log.debug('rongcloud call', { path, attempt });
        return outcome.body;
      }
      last = outcome;
      const { code, httpStatus, errorMessage, retryable } = outcome;
      log.warn('rongcloud call failed', { path, baseUrl, attempt, code, httpStatus, errorMessage, retryable });
      if (!retryable) {
        throw new ImCallFailed({ path, code, httpStatus, retryable: false, message: `${path}: ${describeFailure(outcome)}` });
      }
      if (outcome.failover) failoverFrom(index);
      const delay = Math.floor(random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)));
      if (now() + delay >= deadline) {
        throw new ImCallFailed({
          path,
          code,
          httpStatus,
          retryable: true,
          message: `${path}: gave up after ${attempt} attempt(s) at the deadline: ${describeFailure(outcome)}`,
        });
      }
      await sleep(delay);
    }
  };

  /** One logical call: its attempts, then `ImCalls` (by outcome) and `ImCallLatency`, waits and backoff included. */
  const call = async (path: string, form: Form, options: CallOptions = {}): Promise<Record<string, unknown>> => {
    const started = now();
    const tries = { count: 0 };
    try {
      const answer = await attemptCall(path, form, options, tries);
      metrics.imCall(path, tries.count > 1 ? 'retried_ok' : 'ok', now() - started);
      return answer;
    } catch (error) {
      metrics.imCall(path, error instanceof ImCallFailed && !error.retryable ? 'failed_permanent' : 'failed_retryable', now() - started);
      throw error;
    }
  };

  return { call };
};

const describeFailure = (outcome: { code?: number; httpStatus?: number; errorMessage: string }): string =>
  [
    outcome.code === undefined ? undefined : `code ${outcome.code}`,
    outcome.httpStatus === undefined ? undefined : `HTTP ${outcome.httpStatus}`,
    outcome.errorMessage,
  ]
    .filter((part) => part !== undefined)
    .join(', ');

/** The form as a plain object for logs: repeated keys stay arrays, `undefined` values are left out. */
const plainForm = (form: Form): Record<string, FormValue> => {
  const plain: Record<string, FormValue> = {};
  for (const [key, value] of Object.entries(form)) if (value !== undefined) plain[key] = value;
  return plain;
};

/** Without credentials: each call is written as ONE JSON log line and answered {code:200}. */
export const createLogTransport = (log: Logger): ImTransport => ({
  call: async (path, form) => {
    log.info('rongcloud call (not sent)', { path, form: plainForm(form) });
    return { code: 200 };
  },
});

const blankToUndefined = (value: unknown): unknown => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const httpUrl = z.pipe(
  z.string().check(
    z.trim(),
    z.refine(
      (value) => {
        try {
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
        } catch {
          return false;
        }
      },
      { error: (issue) => `not an http(s) URL: ${JSON.stringify(issue.input)}` },
    ),
  ),
  z.transform((value: string) => value.replace(/\/+$/, '')),
);

const envSchema = z.object({
  RONGCLOUD_APP_KEY: z.string().check(z.trim(), z.minLength(1)),
  RONGCLOUD_APP_SECRET: preprocess(
    blankToUndefined,
    z.string({ error: 'required when RONGCLOUD_APP_KEY is set' }).check(z.trim(), z.minLength(1, 'required when RONGCLOUD_APP_KEY is set')),
  ),
  RONGCLOUD_API_URL: preprocess(
    blankToUndefined,
    z.pipe(
      z.pipe(
        z._default(z.string(), DEFAULT_API_URLS.join(',')),
        z.transform((value: string) => value.split(',').map((part) => part.trim()).filter((part) => part !== '')),
      ),
      z.array(httpUrl).check(z.minLength(1, 'needs at least one URL')),
    ),
  ),
  RONGCLOUD_TIMESTAMP_UNIT: preprocess(blankToUndefined, z._default(z.enum(['s', 'ms']), 's')),
  /** Per-request timeout in ms (RongCloud's SDKs use 10 s). */
  RONGCLOUD_TIMEOUT_MS: preprocess(blankToUndefined, z._default(coercedNumber().check(z.int(), z.gte(100), z.lte(60_000)), DEFAULT_TIMEOUT_MS)),
});

/**
 * RongCloud settings from the environment, or null when RONGCLOUD_APP_KEY is unset/empty (then the
 * service logs its calls instead of sending them). `secret`, when given, overrides
 * RONGCLOUD_APP_SECRET (in AWS the secret comes from Secrets Manager). Throws an Error naming the
 * variable when a value is malformed.
 */
export const rongCloudConfigFromEnv = (env: NodeJS.ProcessEnv, secret?: string): RongCloudConfig | null => {
  if ((env.RONGCLOUD_APP_KEY ?? '').trim() === '') return null;
  const parsed = envSchema.safeParse({ ...env, ...(secret === undefined ? {} : { RONGCLOUD_APP_SECRET: secret }) });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${String(issue.path[0] ?? '')}: ${issue.message}`).join('; ');
    throw new Error(`invalid RongCloud configuration: ${problems}`);
  }
  const data = parsed.data;
  return {
    appKey: data.RONGCLOUD_APP_KEY,
    appSecret: data.RONGCLOUD_APP_SECRET,
    baseUrls: data.RONGCLOUD_API_URL,
    timestampUnit: data.RONGCLOUD_TIMESTAMP_UNIT,
    timeoutMs: data.RONGCLOUD_TIMEOUT_MS,
  };
};
