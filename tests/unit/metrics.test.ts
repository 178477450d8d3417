import type { EventBridgeClient, PutEventsCommand, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureStdout } from '#tests/helpers/stdout.ts';
import * as z from 'zod';
import { lambdaContext } from '#infra/local/gateway.ts';
import { EVENT_SOURCE } from '#lib/events/index.ts';
import { relayRecords } from '#lib/events/relay.ts';
import { createEndpointFactory } from '#lib/http/endpoint.ts';
import { groupIdField } from '#lib/http/fields.ts';
import { createRongCloudClient } from '#lib/im/client.ts';
import { createLogger } from '#lib/log.ts';
import { flushMetrics, metrics, putMetric, withInvocation } from '#lib/metrics.ts';
import { httpEvent } from '#tests/helpers/events.ts';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';

/**
 * The EMF writer (lib/metrics.ts) and the metrics the HTTP stack, the RongCloud client and the
 * outbox relay emit, read back from stdout as CloudWatch would. The test setup turns metrics off;
 * these tests turn them on.
 */

type Emf = Record<string, unknown> & {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
};

const written = captureStdout({ METRICS: 'on' });

/** The EMF objects written so far (every line must be one JSON object). */
const emf = (): Emf[] => written().map((line) => JSON.parse(line) as Record<string, unknown>).filter((o): o is Emf => '_aws' in o);

/** Every value written for metric `name` whose dimensions include `dims`, flattened. */
const valuesOf = (name: string, dims: Record<string, string> = {}): number[] =>
  emf()
    .filter((o) => o._aws.CloudWatchMetrics.some((d) => d.Metrics.some((m) => m.Name === name)))
    .filter((o) => Object.entries(dims).every(([k, v]) => o[k] === v))
    .flatMap((o) => (Array.isArray(o[name]) ? (o[name] as number[]) : [o[name] as number]));

/** The dimension set metric `name` is declared with (every object agrees). */
const dimensionsOf = (name: string): string[][] => {
  const sets = emf().flatMap((o) => o._aws.CloudWatchMetrics.filter((d) => d.Metrics.some((m) => m.Name === name)).map((d) => d.Dimensions));
  expect(new Set(sets.map((s) => JSON.stringify(s))).size).toBe(1);
  return sets[0] as string[][];
};

describe('the EMF writer', () => {
  it('writes one EMF object per line, in the shape CloudWatch extracts', async () => {
    const before = Date.now();
    const handler = withInvocation('test-fn', async (_event: unknown, _context: unknown) => {
      putMetric('ImCalls', 'Count', 1, { Path: '/group/create.json', Outcome: 'ok' });
      expect(written()).toEqual([]); // buffered until the invocation ends
      return 'done';
    });
    await expect(handler({}, lambdaContext('test-fn', 10_000, 'req-1'))).resolves.toBe('done');
    expect(written()).toHaveLength(1);
    const [object] = emf();
    expect(object).toEqual({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: 'SealTalkGroup',
            Dimensions: [['Service', 'Path', 'Outcome']],
            Metrics: [{ Name: 'ImCalls', Unit: 'Count' }],
          },
        ],
      },
      Service: 'sealtalk-group',
      Path: '/group/create.json',
      Outcome: 'ok',
      ImCalls: 1,
      function: 'test-fn',
      awsRequestId: 'req-1',
    });
    expect(object?._aws.Timestamp).toBeGreaterThanOrEqual(before);
    expect(object?._aws.Timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('puts the values of one metric and dimension set in one values array, and other dimension values on their own line', async () => {
    await withInvocation('t', async () => {
      metrics.relayLag(5);
      metrics.relayLag(7);
      metrics.domainEvent('GroupRenamed');
      metrics.domainEvent('GroupRenamed');
      metrics.domainEvent('MemberQuit');
    })();
    expect(written()).toHaveLength(3);
    expect(valuesOf('RelayLag')).toEqual([5, 7]);
    expect(dimensionsOf('RelayLag')).toEqual([['Service']]);
    expect(valuesOf('DomainEvents', { EventType: 'GroupRenamed' })).toEqual([1, 1]);
    expect(valuesOf('DomainEvents', { EventType: 'MemberQuit' })).toEqual([1]);
    expect(dimensionsOf('DomainEvents')).toEqual([['Service', 'EventType']]);
  });

  it('splits more than 100 metrics, and more than 100 values of one metric, over several lines', async () => {
    await withInvocation('t', async () => {
      for (let i = 0; i < 250; i++) putMetric(`M${i}`, 'Count', i);
      for (let i = 0; i < 230; i++) putMetric('Many', 'Milliseconds', i, { Route: 'GET /x' });
    })();
    const objects = emf();
    for (const object of objects) {
      const metricDefs = object._aws.CloudWatchMetrics.flatMap((d) => d.Metrics);
      expect(metricDefs.length).toBeLessThanOrEqual(100);
      for (const { Name } of metricDefs) {
        const value = object[Name];
        expect(Array.isArray(value) ? (value as number[]).length : 1).toBeLessThanOrEqual(100);
      }
    }
    // 250 names without extra dimensions: 3 lines; 230 values of one name: 3 lines.
    expect(objects.filter((o) => o.Route === undefined)).toHaveLength(3);
    expect(objects.filter((o) => o.Route === 'GET /x')).toHaveLength(3);
    const names = objects.flatMap((o) => o._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name))).filter((n) => n !== 'Many');
    expect(new Set(names).size).toBe(250);
    expect(valuesOf('M249')).toEqual([249]);
    expect(valuesOf('Many')).toEqual(Array.from({ length: 230 }, (_, i) => i));
  });

  it('writes the metrics when the handler throws, and rethrows', async () => {
    const failing = withInvocation('t', async () => {
      metrics.imCall('/group/quit.json', 'failed_permanent', 12);
      throw new Error('boom');
    });
    await expect(failing()).rejects.toThrow('boom');
    expect(valuesOf('ImCalls', { Outcome: 'failed_permanent' })).toEqual([1]);
    expect(valuesOf('ImCallLatency', { Path: '/group/quit.json' })).toEqual([12]);
  });

  it('writes nothing with METRICS=off, and is not silenced by LOG_LEVEL', async () => {
    vi.stubEnv('LOG_LEVEL', 'silent');
    await withInvocation('t', async () => metrics.relayLag(1))();
    expect(emf()).toHaveLength(1);
    vi.stubEnv('METRICS', 'off');
    await withInvocation('t', async () => metrics.relayLag(1))();
    putMetric('Outside', 'Count', 1);
    expect(emf()).toHaveLength(1);
  });

  it('writes at once outside an invocation, and on flushMetrics inside one', async () => {
    putMetric('Outside', 'Count', 1);
    expect(valuesOf('Outside')).toEqual([1]);
    await withInvocation('t', async () => {
      putMetric('Early', 'Count', 1);
      flushMetrics();
      expect(valuesOf('Early')).toEqual([1]);
      putMetric('Late', 'Count', 1);
    })();
    expect(valuesOf('Early')).toEqual([1]);
    expect(valuesOf('Late')).toEqual([1]);
  });

  it('never throws, and drops values that are not finite numbers', async () => {
    await withInvocation('t', async () => {
      expect(() => putMetric('Bad', 'Count', Number.NaN)).not.toThrow();
      expect(() => putMetric('Bad', 'Count', Number.POSITIVE_INFINITY)).not.toThrow();
      putMetric('Good', 'Count', 2);
    })();
    expect(valuesOf('Bad')).toEqual([]);
    expect(valuesOf('Good')).toEqual([2]);
  });

  it('keeps each concurrent invocation in its own buffer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = withInvocation('slow', async (_e: unknown, _c: unknown) => {
      putMetric('Slow', 'Count', 1);
      await gate;
    });
    const fast = withInvocation('fast', async (_e: unknown, _c: unknown) => putMetric('Fast', 'Count', 1));
    const pending = slow({}, lambdaContext('slow', 10_000, 'slow-1'));
    await fast({}, lambdaContext('fast', 10_000, 'fast-1'));
    expect(emf()).toEqual([expect.objectContaining({ Fast: 1, awsRequestId: 'fast-1' })]);
    release();
    await pending;
    expect(emf()[1]).toEqual(expect.objectContaining({ Slow: 1, awsRequestId: 'slow-1' }));
  });
});

describe('request metrics of the HTTP stack', () => {
  const endpoint = createEndpointFactory(async () => undefined);
  const echo = endpoint({ input: z.object({ groupId: groupIdField() }), run: async ({ input }) => input });

  const call = async (body: unknown, claims: Record<string, string> | null) => {
    const event = httpEvent({ body, claims, routeKey: 'POST /group/kick' });
    const out = await echo(event, lambdaContext('group-kick', 10_000, 'lambda-1'));
    return out.statusCode;
  };

  it('emits Requests by route and status and RequestLatency by route for a 200', async () => {
    expect(await call({ groupId: 'g1' }, { sub: 'alice' })).toBe(200);
    expect(valuesOf('Requests', { Route: 'POST /group/kick', Status: '200' })).toEqual([1]);
    expect(dimensionsOf('Requests')).toEqual([['Service', 'Route', 'Status']]);
    expect(valuesOf('RequestLatency', { Route: 'POST /group/kick' })).toEqual([expect.any(Number)]);
    expect(dimensionsOf('RequestLatency')).toEqual([['Service', 'Route']]);
    const units = emf().flatMap((o) => o._aws.CloudWatchMetrics.flatMap((d) => d.Metrics));
    expect(units).toEqual(expect.arrayContaining([{ Name: 'Requests', Unit: 'Count' }, { Name: 'RequestLatency', Unit: 'Milliseconds' }]));
  });

  it('emits them for a 400 and a 401 too', async () => {
    expect(await call({}, { sub: 'alice' })).toBe(400);
    expect(await call({ groupId: 'g1' }, null)).toBe(401);
    expect(valuesOf('Requests', { Route: 'POST /group/kick', Status: '400' })).toEqual([1]);
    expect(valuesOf('Requests', { Route: 'POST /group/kick', Status: '401' })).toEqual([1]);
    expect(valuesOf('RequestLatency', { Route: 'POST /group/kick' })).toHaveLength(2);
  });

  it("puts the request's ids on the EMF lines and on log lines of other loggers", async () => {
    vi.stubEnv('LOG_LEVEL', 'info');
    const other = createLogger({ component: 'elsewhere' });
    const logging = endpoint({
      input: z.object({}),
      run: async () => {
        other.info('inside');
      },
    });
    const event = httpEvent({ body: {}, claims: { sub: 'alice' } });
    event.requestContext.requestId = 'apigw-1';
    await logging(event, lambdaContext('test', 10_000, 'lambda-1'));
    const entries = written().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const entry of entries) expect(entry).toMatchObject({ requestId: 'apigw-1', awsRequestId: 'lambda-1' });
  });
});

describe('IM call metrics of the RongCloud client', () => {
  let fake: FakeRongCloud;
  beforeAll(async () => {
    fake = await startFakeRongCloud();
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => fake.reset());

  const client = () => {
    let offset = 0;
    return createRongCloudClient(
      { appKey: fake.appKey, appSecret: fake.appSecret, baseUrls: [fake.url] },
      {
        log: createLogger(),
        now: () => Date.now() + offset,
        sleep: async (ms) => {
          offset += ms;
        },
      },
    );
  };
  const refresh = { groupId: 'g1', groupName: 'Name' };
  const path = '/group/refresh.json';

  it('counts one logical call per outcome, with its latency by path', async () => {
    const im = client();
    await withInvocation('notifier', async () => {
      await im.call(path, refresh);

      fake.fail(path, { status: 500 }, { status: 429, code: 1008 });
      await im.call(path, refresh);

      fake.fail(path, { code: 1002, errorMessage: 'bad param' });
      await expect(im.call(path, refresh)).rejects.toMatchObject({ retryable: false });

      fake.fail(path, ...Array.from({ length: 20 }, () => ({ status: 500 })));
      await expect(im.call(path, refresh, { deadline: Date.now() + 300 })).rejects.toMatchObject({ retryable: true });
    })();
    for (const outcome of ['ok', 'retried_ok', 'failed_permanent', 'failed_retryable']) {
      expect(valuesOf('ImCalls', { Path: path, Outcome: outcome }), outcome).toEqual([1]);
    }
    expect(dimensionsOf('ImCalls')).toEqual([['Service', 'Path', 'Outcome']]);
    // Per logical call, not per attempt.
    expect(fake.attempts.length).toBeGreaterThan(4);
    expect(valuesOf('ImCallLatency', { Path: path })).toHaveLength(4);
    expect(dimensionsOf('ImCallLatency')).toEqual([['Service', 'Path']]);
  });
});

describe('relay metrics', () => {
  const record = (seq: number, detailType: 'GroupRenamed' | 'MemberQuit', createdAt: number): DynamoDBRecord => {
    const detail =
      detailType === 'GroupRenamed'
        ? { groupId: 'g1', operatorId: 'u1', name: 'New', timestamp: createdAt }
        : { groupId: 'g1', userId: 'u2', newOwnerId: null, timestamp: createdAt };
    const item = {
      pk: 'OUTBOX#g1',
      sk: `EVENT#${createdAt}#${seq}#e${seq}`,
      kind: 'event',
      eventId: `e${seq}`,
      source: EVENT_SOURCE,
      detailType,
      detail: JSON.stringify(detail),
      createdAt,
      seq,
    };
    return { eventName: 'INSERT', dynamodb: { SequenceNumber: String(seq), NewImage: marshall(item) as never } };
  };

  /** A bus that answers each PutEvents with `answer(entries, call number)`. */
  const fakeBus = (answer: (count: number, call: number) => PutEventsResultEntry[]) => {
    const calls: number[] = [];
    const client = {
      send: async (command: PutEventsCommand) => {
        const count = command.input.Entries?.length ?? 0;
        calls.push(count);
        const entries = answer(count, calls.length);
        return { FailedEntryCount: entries.filter((e) => e.ErrorCode).length, Entries: entries };
      },
    } as unknown as EventBridgeClient;
    return { client, calls };
  };

  it('emits DomainEvents by event type and RelayLag per published event', async () => {
    const committed = Date.now() - 1_500;
    const bus = fakeBus((count) => Array.from({ length: count }, (_, i) => ({ EventId: `id-${i}` })));
    const out = await withInvocation('outbox-relay', () =>
      relayRecords({ client: bus.client, busName: 'bus', log: createLogger() }, [
        record(1, 'GroupRenamed', committed),
        record(2, 'GroupRenamed', committed),
        record(3, 'MemberQuit', committed + 500),
      ]),
    )();
    expect(out.batchItemFailures).toEqual([]);
    expect(valuesOf('DomainEvents', { EventType: 'GroupRenamed' })).toEqual([1, 1]);
    expect(valuesOf('DomainEvents', { EventType: 'MemberQuit' })).toEqual([1]);
    const lags = valuesOf('RelayLag');
    expect(lags).toHaveLength(3);
    expect(lags[0]).toBeGreaterThanOrEqual(1_500);
    expect(lags[0]).toBeLessThan(10_000);
    expect((lags[0] ?? 0) - (lags[2] ?? 0)).toBe(500);
    expect(dimensionsOf('RelayLag')).toEqual([['Service']]);
    expect(valuesOf('DomainEventsFailed')).toEqual([]);
  });

  it('counts each entry PutEvents refused in DomainEventsFailed, and the retried one once published', async () => {
    const bus = fakeBus((count, call) =>
      call === 1
        ? [{ EventId: 'a' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }].slice(0, count)
        : Array.from({ length: count }, () => ({ EventId: 'b' })),
    );
    const out = await withInvocation('outbox-relay', () =>
      relayRecords({ client: bus.client, busName: 'bus', log: createLogger(), sleep: async () => undefined }, [
        record(1, 'GroupRenamed', Date.now()),
        record(2, 'MemberQuit', Date.now()),
      ]),
    )();
    expect(out.batchItemFailures).toEqual([]);
    expect(bus.calls).toEqual([2, 1]);
    expect(valuesOf('DomainEventsFailed', { EventType: 'MemberQuit' })).toEqual([1]);
    expect(dimensionsOf('DomainEventsFailed')).toEqual([['Service', 'EventType']]);
    expect(valuesOf('DomainEvents', { EventType: 'GroupRenamed' })).toEqual([1]);
    expect(valuesOf('DomainEvents', { EventType: 'MemberQuit' })).toEqual([1]);
    expect(valuesOf('RelayLag')).toHaveLength(2);
  });
});
