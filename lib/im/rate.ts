/**
 * RongCloud rate limits, per App Key: one token bucket per endpoint family.
 *
 * Every notifier container keeps its own buckets, so each limit is divided by `share` (how many
 * containers may run at once): N containers together stay within the App Key's limit. A bucket holds
 * one window's worth of tokens (a second; a minute for private messages) and is refilled to capacity
 * at each window boundary, windows aligned on the epoch: like the server's own per-second (per-minute)
 * counting, so no aligned window ever sees more than the limit, not even during a burst (a bucket
 * refilled continuously would let through its capacity plus a window's refill: twice the limit).
 *
 * Callers reserve their tokens up front, into debt when there are not enough, and sleep until the
 * window their last token comes from: concurrent callers are served in arrival order, and a cost
 * above the capacity simply waits for as many windows as it needs. Should the server still answer
 * 1008 (clock skew between containers), the client retries with backoff.
 */

export type RateFamily = 'groupManagement' | 'groupMessage' | 'privateMessage' | 'systemMessage' | 'historyClean';

/** RongCloud's documented limits: `limit` units per `windowMs`. */
export const RATE_LIMITS: Readonly<Record<RateFamily, { limit: number; windowMs: number }>> = {
  /** create/join/quit/dismiss/refresh/ban/whitelist/gag: 100 requests per second. */
  groupManagement: { limit: 100, windowMs: 1000 },
  /** /message/group/publish.json: 20 messages per second. */
  groupMessage: { limit: 20, windowMs: 1000 },
  /** /message/private/publish.json: 6000 per minute, counted per recipient. */
  privateMessage: { limit: 6000, windowMs: 60_000 },
  /** /message/system/publish.json: 100 per second, counted per recipient. */
  systemMessage: { limit: 100, windowMs: 1000 },
  /** /conversation/message/history/clean.json: 100 per second. */
  historyClean: { limit: 100, windowMs: 1000 },
};

export interface Clock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface TokenBucket {
  /** Waits until `cost` tokens are available (in this window or later ones) and takes them. */
  acquire(cost?: number): Promise<void>;
}

/** `capacity` tokens per `windowMs` window (windows aligned on the epoch). */
export const createTokenBucket = (capacity: number, windowMs: number, clock: Clock = systemClock): TokenBucket => {
  if (!(capacity > 0) || !(windowMs > 0)) throw new Error(`invalid token bucket: ${capacity} per ${windowMs} ms`);
  /** The window `used` was last brought up to date in, and the tokens taken from it onwards (> capacity: debt). */
  let window = Number.NEGATIVE_INFINITY;
  let used = 0;
  return {
    acquire: async (cost = 1) => {
      const now = clock.now();
      const current = Math.floor(now / windowMs);
      if (current > window) {
        // Each window that began since refilled the bucket: only debt beyond them is still owed.
        used = Math.max(0, used - capacity * (current - window));
        window = current;
      }
      used += cost;
      const windowsAhead = Math.ceil(used / capacity) - 1;
      if (windowsAhead > 0) await clock.sleep((window + windowsAhead) * windowMs - now);
    },
  };
};

export type RateLimits = Readonly<Record<RateFamily, TokenBucket>>;

/** Lower limits than RongCloud's for some families (units per window, for the whole App Key). */
export type RateOverrides = Partial<Readonly<Record<RateFamily, number>>>;

/**
 * One bucket per family, each limit divided by `share` (the number of concurrent containers).
 * `overrides` replace a family's limit (e.g. `REGULAR_CLEAR_RATE` for history cleaning); they may
 * only lower it: RongCloud's own limit stays the ceiling.
 */
export const createRateLimits = (share = 1, clock: Clock = systemClock, overrides: RateOverrides = {}): RateLimits => {
  if (!(share >= 1) || !Number.isFinite(share)) throw new Error(`invalid rate share ${share}: must be a number >= 1`);
  const bucket = (family: RateFamily): TokenBucket => {
    const { limit, windowMs } = RATE_LIMITS[family];
    const override = overrides[family];
    if (override !== undefined && !(override > 0 && Number.isFinite(override))) {
      throw new Error(`invalid ${family} rate ${override}: must be a positive number`);
    }
    return createTokenBucket(Math.min(limit, override ?? limit) / share, windowMs, clock);
  };
  return {
    groupManagement: bucket('groupManagement'),
    groupMessage: bucket('groupMessage'),
    privateMessage: bucket('privateMessage'),
    systemMessage: bucket('systemMessage'),
    historyClean: bucket('historyClean'),
  };
};

/** A form as the transport sees it (see client.ts): repeated keys are arrays. */
type FormLike = Readonly<Record<string, string | number | readonly string[] | undefined>>;

const count = (value: FormLike[string]): number =>
  value === undefined ? 0 : typeof value === 'object' ? value.length : 1;

/**
 * Which bucket a call draws from, and how many tokens it costs: one per request, except message
 * publishes: one per target group (`toGroupId`), one per recipient (`toUserId`). Unknown paths count as group management.
 */
export const rateCost = (path: string, form: FormLike): { family: RateFamily; cost: number } => {
  if (path === '/message/group/publish.json') return { family: 'groupMessage', cost: Math.max(1, count(form.toGroupId)) };
  if (path === '/message/private/publish.json') return { family: 'privateMessage', cost: Math.max(1, count(form.toUserId)) };
  if (path === '/message/system/publish.json') return { family: 'systemMessage', cost: Math.max(1, count(form.toUserId)) };
  if (path === '/conversation/message/history/clean.json') return { family: 'historyClean', cost: 1 };
  return { family: 'groupManagement', cost: 1 };
};
