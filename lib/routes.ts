/**
 * THE route table. The CDK stack, the local gateway and the tests all read it; nothing else lists
 * routes. One entry per HTTP endpoint of the SealTalk group API (plus the two user-API listings
 * only this service can answer).
 *
 * - `handler` is the file in `functions/` (without `.ts`) that serves the route once it is built.
 * - `table` is the least privilege the handler needs on the single table.
 */

import { EVENT_SOURCE, eventTypes, USER_EVENT_SOURCE } from './events/index.ts';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';
export type TableAccess = 'read' | 'write';

export interface Route {
  readonly method: HttpMethod;
  /** API Gateway (HTTP API) path; `{name}` marks a path parameter. */
  readonly path: string;
  /** File name in `functions/` without the extension. */
  readonly handler: string;
  readonly table: TableAccess;
}

// No side effects: the Lambdas that read one setting of this file (regular clear's queue) leave the route table out.
/* @__NO_SIDE_EFFECTS__ */
const route = (method: HttpMethod, path: string, handler: string, table: TableAccess): Route => ({ method, path, handler, table });

export const routes: readonly Route[] = [
  route('POST', '/group/create', 'group-create', 'write'),
  route('POST', '/group/add', 'group-add', 'write'),
  route('POST', '/group/join', 'group-join', 'write'),
  route('POST', '/group/kick', 'group-kick', 'write'),
  route('POST', '/group/quit', 'group-quit', 'write'),
  route('POST', '/group/dismiss', 'group-dismiss', 'write'),
  route('POST', '/group/transfer', 'group-transfer', 'write'),
  route('POST', '/group/set_manager', 'group-set-manager', 'write'),
  route('POST', '/group/remove_manager', 'group-remove-manager', 'write'),
  route('POST', '/group/rename', 'group-rename', 'write'),
  route('POST', '/group/fav', 'group-fav-add', 'write'),
  route('DELETE', '/group/fav', 'group-fav-remove', 'write'),
  route('POST', '/group/set_bulletin', 'group-set-bulletin', 'write'),
  route('GET', '/group/get_bulletin', 'group-get-bulletin', 'read'),
  route('POST', '/group/set_portrait_uri', 'group-set-portrait-uri', 'write'),
  route('POST', '/group/set_display_name', 'group-set-display-name', 'write'),
  route('POST', '/group/set_certification', 'group-set-certification', 'write'),
  route('POST', '/group/agree', 'group-agree', 'write'),
  route('GET', '/group/notice_info', 'group-notice-info', 'read'),
  route('POST', '/group/clear_notice', 'group-clear-notice', 'write'),
  route('POST', '/group/mute_all', 'group-mute-all', 'write'),
  route('POST', '/group/set_regular_clear', 'group-set-regular-clear', 'write'),
  route('POST', '/group/get_regular_clear', 'group-get-regular-clear', 'read'),
  route('POST', '/group/set_member_protection', 'group-set-member-protection', 'write'),
  route('POST', '/group/set_member_info', 'group-set-member-info', 'write'),
  route('POST', '/group/get_member_info', 'group-get-member-info', 'read'),
  route('POST', '/group/copy_group', 'group-copy', 'write'),
  route('POST', '/group/exited_list', 'group-exited-list', 'read'),
  // Literal routes above win over `{id}` (API Gateway picks the most specific match).
  route('GET', '/group/{id}', 'group-get', 'read'),
  route('GET', '/group/{id}/members', 'group-members', 'read'),
  route('GET', '/user/groups', 'user-groups', 'read'),
  route('GET', '/user/favgroups', 'user-favgroups', 'read'),
];

/**
 * Functions that consume events from the bus: one EventBridge rule per consumer, its pattern derived
 * from the event declarations (`lib/events`), so an event name is typed once. Their handlers fail
 * loudly; infra owns retries and dead-letter queues.
 *
 * - `sqs`: the rule feeds an SQS queue and the function consumes it in batches (partial batch
 *   failures, redelivery with backoff, a dead-letter queue and an alarm on it, a concurrency cap).
 * - `lambda`: the rule invokes the function asynchronously (EventBridge and Lambda retries, then
 *   the function's dead-letter queue).
 */
export interface EventConsumer {
  /** File name in `functions/` without the extension. */
  readonly handler: string;
  readonly source: string;
  readonly detailTypes: readonly string[];
  readonly table: TableAccess;
  readonly delivery: 'sqs' | 'lambda';
  /** For `sqs`: at most this many invocations at once (the event source's MaximumConcurrency). */
  readonly maxConcurrency?: number;
}

/** Delivery settings of queued consumers (queue, retries, dead letters), in AWS and locally. */
export const NOTIFIER_QUEUE = {
  /** Lambda timeout of the notifier: long enough for RongCloud's retries, backoff and failover. */
  timeoutSeconds: 30,
  /** A failed message is visible again after this; with maxReceiveCount, it is tried over ~15 min. */
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  batchSize: 10,
} as const;

/** The notifier's concurrency cap: with the client's per-container rate share it keeps RongCloud's limits. */
export const NOTIFIER_MAX_CONCURRENCY = 2;

export const consumers: readonly EventConsumer[] = [
  // Every group event → RongCloud calls and the IM messages SealTalk clients render.
  {
    handler: 'notifier',
    source: EVENT_SOURCE,
    detailTypes: eventTypes,
    table: 'write',
    delivery: 'sqs',
    maxConcurrency: NOTIFIER_MAX_CONCURRENCY,
  },
  // Profile changes from the upstream user service, projected like token claims.
  { handler: 'user-profile-updated', source: USER_EVENT_SOURCE, detailTypes: ['UserProfileUpdated'], table: 'write', delivery: 'lambda' },
  // A dismissed group's members, counts and favourites are released, its waiting notices expired;
  // kicked and quitting members lose their favourite of the group (resumable, idempotent).
  { handler: 'group-cleanup', source: EVENT_SOURCE, detailTypes: ['GroupDismissed', 'MembersKicked', 'MemberQuit'], table: 'write', delivery: 'lambda' },
];

/** The bus rule pattern of a consumer (EventBridge pattern syntax, as deployed and as run locally). */
export const eventPatternOf = (c: EventConsumer): { source: string[]; 'detail-type': string[] } => ({
  source: [c.source],
  'detail-type': [...c.detailTypes],
});

/**
 * The outbox relay: fed by the table's stream (only outbox inserts, see `OUTBOX_STREAM_FILTER`),
 * publishes to the bus. It needs no table access beyond reading the stream.
 */
export const OUTBOX_RELAY_HANDLER = 'outbox-relay';

/**
 * Work fanned out through an SQS queue of our own (not fed by the bus): the producer sends one
 * message per unit of work, the function consumes them one at a time (`batchSize`), at most
 * `maxConcurrency` at once; a failed message is retried after the visibility timeout and
 * dead-lettered (alarmed) after `maxReceiveCount` receives. Locally, the local bus plays the queue.
 */
export interface WorkQueue {
  /** Queue name (locally, the last path segment of its URL). */
  readonly name: string;
  /** File name in `functions/` without the extension. */
  readonly handler: string;
  readonly table: TableAccess;
  /** Env variable the producer reads the queue URL from. */
  readonly urlEnv: string;
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly timeoutSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /** The function calls RongCloud (reads its secret, keeps a share of a rate limit). */
  readonly rongCloud: boolean;
}

/**
 * Regular clear's member chunks: each message is one chunk of one group's run (≤ 100 members, one
 * history call each). Two consumers at once, each with half of `REGULAR_CLEAR_RATE` calls/s.
 */
export const REGULAR_CLEAR_QUEUE: WorkQueue = {
  name: 'regular-clear-chunks',
  handler: 'regular-clear-worker',
  table: 'write',
  urlEnv: 'REGULAR_CLEAR_QUEUE_URL',
  batchSize: 1,
  maxConcurrency: 2,
  timeoutSeconds: 120,
  // ≥ the function timeout, so a chunk still being worked on is never handed to a second consumer.
  visibilityTimeoutSeconds: 180,
  maxReceiveCount: 5,
  rongCloud: true,
};

export const workQueues: readonly WorkQueue[] = [REGULAR_CLEAR_QUEUE];

/**
 * Scheduled functions: one EventBridge Scheduler schedule each (retries, then a dead-letter queue);
 * locally, `npm start`'s scheduler runs them every `everyMs`.
 */
export interface ScheduledJob {
  readonly name: string;
  /** File name in `functions/` without the extension. */
  readonly handler: string;
  /** EventBridge Scheduler expression. */
  readonly expression: string;
  /** The same period in ms (the local scheduler). */
  readonly everyMs: number;
  readonly table: TableAccess;
  readonly timeoutSeconds: number;
  readonly description: string;
  /** The work queue (`workQueues`) it sends to, if any: it gets the URL (`urlEnv`) and may send. */
  readonly sendsTo?: string;
  /**
   * How long the scheduler keeps retrying an invocation it could not deliver; also bounds the
   * function's own async retries. Shorter than the period, so runs never pile up.
   */
  readonly maxEventAgeSeconds: number;
}

export const schedules: readonly ScheduledJob[] = [
  {
    name: 'regular-clear',
    handler: 'regular-clear',
    expression: 'rate(1 hour)',
    everyMs: 3_600_000,
    table: 'write',
    timeoutSeconds: 300,
    description: 'Finds groups due for regular clearing (GSI2), claims each and fans its members out to the chunk queue',
    sendsTo: REGULAR_CLEAR_QUEUE.name,
    maxEventAgeSeconds: 3000,
  },
  {
    name: 'janitor',
    handler: 'janitor',
    expression: 'rate(10 minutes)',
    everyMs: 600_000,
    table: 'write',
    timeoutSeconds: 300,
    description: 'Undoes group creations interrupted mid-way and resumes dismissal cleanups that did not finish',
    maxEventAgeSeconds: 480,
  },
];

/** The function file that serves a route. */
export const functionOf = (r: Route): string => r.handler;

/** Every distinct function file that serves HTTP routes. */
export const httpFunctions = (): string[] => [...new Set(routes.map(functionOf))];

/** Every function of the service: the HTTP ones, the event consumers, the relay, the queue workers and the scheduled jobs. */
export const allFunctions = (): string[] => [
  ...httpFunctions(),
  ...consumers.map((c) => c.handler),
  OUTBOX_RELAY_HANDLER,
  ...workQueues.map((q) => q.handler),
  ...schedules.map((s) => s.handler),
];

/** `GET /group/{id}` style key, as API Gateway names routes (`routeKey`). */
export const routeKey = (r: Pick<Route, 'method' | 'path'>): string => `${r.method} ${r.path}`;
