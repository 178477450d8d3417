import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { withLogContext, type Fields } from './log.ts';

/**
 * Metrics in CloudWatch embedded metric format (EMF), without a library: each flush writes one JSON
 * object per line to stdout, and CloudWatch Logs extracts the metrics from the function's log group
 * (no PutMetricData call, no permission beyond writing logs). Raw `process.stdout.write` like
 * lib/log.ts: the Lambda runtime rewrites `console.*` output (with the JSON log format a console
 * line becomes the escaped `message` string of the runtime's own object, which CloudWatch would not
 * read as EMF) but passes raw stdout lines through as they are.
 *
 * Metrics are buffered per invocation (`withInvocation`, `withHttpMetrics`) and written when it ends,
 * also when it throws: one object per set of dimension values, at most 100 metrics and 100 values
 * per metric in an object (more go on further lines). Nothing here awaits or throws; `METRICS=off`
 * turns it all off (the tests' setup does). LOG_LEVEL does not apply to metrics.
 *
 * The names are a contract with the dashboard and the alarms (infra): namespace `SealTalkGroup`,
 * dimension `Service` = `sealtalk-group` on every metric, and the metrics of `metrics` below.
 */

export const NAMESPACE = 'SealTalkGroup';
export const SERVICE = 'sealtalk-group';

export type Unit = 'Count' | 'Milliseconds';
/** Dimension name → value, in the order of the dimension set; `Service` is added first. */
export type Dimensions = Record<string, string>;

/** CloudWatch's limits for one EMF object. */
const MAX_METRICS = 100;
const MAX_VALUES = 100;
const MAX_DIMENSIONS = 30;

const enabled = (): boolean => (process.env.METRICS ?? '').trim().toLowerCase() !== 'off';

interface Series {
  unit: Unit;
  values: number[];
}

interface Group {
  dimensions: [string, string][];
  series: Map<string, Series>;
}

/** The metrics of one invocation (or, outside one, of a single metric written at once). */
class MetricBuffer {
  private groups = new Map<string, Group>();
  private flushed = false;

  constructor(private readonly properties: Fields) {}

  add(name: string, unit: Unit, value: number, dimensions: Dimensions): void {
    const dims: [string, string][] = [['Service', SERVICE]];
    for (const [key, raw] of Object.entries(dimensions)) {
      if (key === 'Service' || dims.length >= MAX_DIMENSIONS) continue;
      dims.push([key, raw === '' ? 'none' : raw]);
    }
    const key = JSON.stringify(dims);
    let group = this.groups.get(key);
    if (!group) {
      group = { dimensions: dims, series: new Map() };
      this.groups.set(key, group);
    }
    const series = group.series.get(name);
    if (series) series.values.push(value);
    else group.series.set(name, { unit, values: [value] });
    // A metric recorded after its invocation ended (work left running) is not lost.
    if (this.flushed) this.flush();
  }

  /** The EMF lines of everything buffered, which is then dropped. */
  drain(timestamp: number): string[] {
    const lines: string[] = [];
    for (const group of this.groups.values()) {
      // Round r holds each metric's r-th slice of 100 values; a round is cut into objects of 100 metrics.
      const rounds: { name: string; unit: Unit; values: number[] }[][] = [];
      for (const [name, { unit, values }] of group.series) {
        for (let r = 0; r * MAX_VALUES < values.length; r++) {
          (rounds[r] ??= []).push({ name, unit, values: values.slice(r * MAX_VALUES, (r + 1) * MAX_VALUES) });
        }
      }
      for (const round of rounds) {
        for (let i = 0; i < round.length; i += MAX_METRICS) {
          const slice = round.slice(i, i + MAX_METRICS);
          const object: Record<string, unknown> = {
            ...this.properties,
            _aws: {
              Timestamp: timestamp,
              CloudWatchMetrics: [
                {
                  Namespace: NAMESPACE,
                  Dimensions: [group.dimensions.map(([name]) => name)],
                  Metrics: slice.map(({ name, unit }) => ({ Name: name, Unit: unit })),
                },
              ],
            },
          };
          for (const [name, value] of group.dimensions) object[name] = value;
          for (const { name, values } of slice) object[name] = values.length === 1 ? values[0] : values;
          lines.push(`${JSON.stringify(object)}\n`);
        }
      }
    }
    this.groups.clear();
    return lines;
  }

  flush(): void {
    this.flushed = true;
    try {
      const lines = this.drain(Date.now());
      if (lines.length > 0 && enabled()) process.stdout.write(lines.join(''));
    } catch {
      // Metrics never fail the work they measure.
    }
  }
}

const current = new AsyncLocalStorage<MetricBuffer>();

/**
 * Records one value. Inside an invocation it is buffered until the invocation ends; outside one
 * (scripts, tests calling a module directly) it is written at once.
 */
export const putMetric = (name: string, unit: Unit, value: number, dimensions: Dimensions = {}): void => {
  try {
    if (!enabled() || !Number.isFinite(value)) return;
    const buffer = current.getStore();
    if (buffer) {
      buffer.add(name, unit, value, dimensions);
      return;
    }
    const once = new MetricBuffer({});
    once.add(name, unit, value, dimensions);
    once.flush();
  } catch {
    // Metrics never fail the work they measure.
  }
};

/** Writes the current invocation's metrics now (the wrappers do it when the invocation ends). */
export const flushMetrics = (): void => current.getStore()?.flush();

/** Outcome of one logical RongCloud call (all its attempts). */
export type ImCallOutcome = 'ok' | 'retried_ok' | 'failed_retryable' | 'failed_permanent';

/** The service's metrics: the contract's names and dimensions, in one place. */
export const metrics = {
  /** One HTTP request: `Requests` [Service, Route, Status] and `RequestLatency` [Service, Route]. */
  request(route: string, status: number | string, ms: number): void {
    putMetric('Requests', 'Count', 1, { Route: route, Status: String(status) });
    putMetric('RequestLatency', 'Milliseconds', ms, { Route: route });
  },
  /** One event the outbox relay got onto the bus: `DomainEvents` [Service, EventType]. */
  domainEvent(eventType: string): void {
    putMetric('DomainEvents', 'Count', 1, { EventType: eventType });
  },
  /** One entry PutEvents did not take (in any attempt): `DomainEventsFailed` [Service, EventType]. */
  domainEventFailed(eventType: string): void {
    putMetric('DomainEventsFailed', 'Count', 1, { EventType: eventType });
  },
  /** Publish time − commit time of one published event: `RelayLag` [Service]. */
  relayLag(ms: number): void {
    putMetric('RelayLag', 'Milliseconds', ms);
  },
  /** One logical RongCloud call: `ImCalls` [Service, Path, Outcome] and `ImCallLatency` [Service, Path]. */
  imCall(path: string, outcome: ImCallOutcome, ms: number): void {
    putMetric('ImCalls', 'Count', 1, { Path: path, Outcome: outcome });
    putMetric('ImCallLatency', 'Milliseconds', ms, { Path: path });
  },
};

const awsRequestIdOf = (context: unknown): string | undefined => {
  const id = typeof context === 'object' && context !== null ? (context as { awsRequestId?: unknown }).awsRequestId : undefined;
  return typeof id === 'string' ? id : undefined;
};

const invoke = async <R>(fields: Fields, run: () => Promise<R>): Promise<R> => {
  const buffer = new MetricBuffer(fields);
  return current.run(buffer, () =>
    withLogContext(fields, async () => {
      try {
        return await run();
      } finally {
        buffer.flush();
      }
    }),
  );
};

/**
 * Wraps a non-HTTP Lambda handler: every log line written during the invocation carries
 * `awsRequestId` (the Lambda context's, when the handler is given one) and `function: name`, and the
 * invocation's metrics are written when it ends, whether it returns or throws. The handler's own
 * signature is kept.
 */
export const withInvocation =
  <A extends unknown[], R>(name: string, handler: (...args: A) => Promise<R>): ((...args: A) => Promise<R>) =>
  (...args: A) => {
    const awsRequestId = awsRequestIdOf(args[1]);
    return invoke({ function: name, ...(awsRequestId === undefined ? {} : { awsRequestId }) }, () => handler(...args));
  };

interface HttpEventLike {
  routeKey?: string;
  requestContext?: { requestId?: string };
}

/**
 * Wraps an HTTP handler (lib/http/endpoint.ts): the invocation context of `withInvocation` (with
 * API Gateway's `requestId` too) plus `Requests` and `RequestLatency` for every request, by API
 * Gateway route key and the status answered (500 when the handler throws).
 */
export const withHttpMetrics =
  <E extends HttpEventLike, C, R extends { statusCode?: number } | undefined>(
    handler: (event: E, context: C) => Promise<R>,
  ): ((event: E, context: C) => Promise<R>) =>
  (event, context) => {
    const awsRequestId = awsRequestIdOf(context);
    const requestId = event?.requestContext?.requestId ?? awsRequestId;
    const fields: Fields = {
      ...(requestId === undefined ? {} : { requestId }),
      ...(awsRequestId === undefined ? {} : { awsRequestId }),
    };
    return invoke(fields, async () => {
      const started = performance.now();
      let status = 500;
      try {
        const result = await handler(event, context);
        status = result?.statusCode ?? 200;
        return result;
      } finally {
        metrics.request(event?.routeKey ?? 'unknown', status, Math.round(performance.now() - started));
      }
    });
  };
