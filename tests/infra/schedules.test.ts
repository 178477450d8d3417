import { describe, expect, it } from 'vitest';
import { REGULAR_CLEAR_QUEUE, schedules } from '#lib/routes.ts';
import { actionsOf, functionLogicalId, resourcesOfType, synthStack } from './helpers.ts';
import type { CfnResource, Synthesized } from './helpers.ts';

const dev = synthStack();
const withRongCloud = synthStack({}, { rongcloudAppKey: 'app-key-1', regularClearRate: 40 });

const getAtt = (value: unknown): string => (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const ref = (value: unknown): string => (value as { Ref: string }).Ref;

/** The schedule invoking function `name`. */
const scheduleOf = (s: Synthesized, name: string): CfnResource => {
  const fnId = functionLogicalId(s, name);
  const found = resourcesOfType(s.json, 'AWS::Scheduler::Schedule').filter(([, r]) => getAtt((r.Properties?.Target as { Arn: unknown }).Arn) === fnId);
  expect(found, name).toHaveLength(1);
  return found[0]![1];
};

const alarmsOn = (s: Synthesized, queueId: string) =>
  resourcesOfType(s.json, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
    ((a.Properties?.Dimensions as { Value: unknown }[] | undefined) ?? []).some((d) => JSON.stringify(d.Value).includes(queueId)),
  );

/** Allowed statements of function `name`'s role: actions and resource. */
const statementsOf = (s: Synthesized, name: string): { actions: string[]; resource: unknown }[] => {
  const fn = s.json.Resources[functionLogicalId(s, name)];
  const roleId = getAtt(fn?.Properties?.Role);
  return resourcesOfType(s.json, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: { Effect: string; Action: string | string[]; Resource: unknown }[] }).Statement)
    .filter((st) => st.Effect === 'Allow')
    .map((st) => ({ actions: Array.isArray(st.Action) ? st.Action : [st.Action], resource: st.Resource }));
};

const envOf = (s: Synthesized, name: string): Record<string, unknown> =>
  (s.json.Resources[functionLogicalId(s, name)]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;

describe('the schedules', () => {
  it('run regular-clear hourly and the janitor every 10 minutes, enabled, each invoking its own function', () => {
    expect(schedules.map((j) => [j.handler, j.expression])).toEqual([
      ['regular-clear', 'rate(1 hour)'],
      ['janitor', 'rate(10 minutes)'],
    ]);
    for (const job of schedules) {
      const props = scheduleOf(dev, job.handler).Properties!;
      expect(props).toMatchObject({ ScheduleExpression: job.expression, State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' } });
      expect(JSON.parse((props.Target as { Input: string }).Input)).toEqual({ job: job.name });
    }
  });

  it('retry an undeliverable invocation within the period, then put it in an alarmed dead-letter queue', () => {
    for (const job of schedules) {
      const target = scheduleOf(dev, job.handler).Properties!.Target as {
        RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
        DeadLetterConfig: { Arn: unknown };
        RoleArn: unknown;
      };
      expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
      expect(target.RetryPolicy.MaximumEventAgeInSeconds).toBe(job.maxEventAgeSeconds);
      expect(job.maxEventAgeSeconds * 1000).toBeLessThan(job.everyMs);
      const dlq = getAtt(target.DeadLetterConfig.Arn);
      expect(dev.json.Resources[dlq]?.Type).toBe('AWS::SQS::Queue');
      expect(alarmsOn(dev, dlq)).toHaveLength(1);
      // The scheduler's role may invoke this function and send to that queue, nothing else.
      const roleId = getAtt(target.RoleArn);
      const statements = resourcesOfType(dev.json, 'AWS::IAM::Policy')
        .filter(([, p]) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
        .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement)
        .flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
      expect(new Set(statements)).toEqual(new Set(['lambda:InvokeFunction', 'sqs:SendMessage']));
    }
  });

  it('give a failing invocation two Lambda retries within the same age, then the same dead-letter queue', () => {
    for (const job of schedules) {
      const fnId = functionLogicalId(dev, job.handler);
      const [config] = resourcesOfType(dev.json, 'AWS::Lambda::EventInvokeConfig').filter(([, c]) => ref(c.Properties?.FunctionName) === fnId);
      expect(config?.[1].Properties).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: job.maxEventAgeSeconds });
      const fn = dev.json.Resources[fnId]!.Properties!;
      const target = scheduleOf(dev, job.handler).Properties!.Target as { DeadLetterConfig: { Arn: unknown } };
      expect(getAtt((fn.DeadLetterConfig as { TargetArn: unknown }).TargetArn)).toBe(getAtt(target.DeadLetterConfig.Arn));
      expect(fn.Timeout).toBe(job.timeoutSeconds);
    }
  });

  it('let the jobs write the table; only regular-clear may send to the chunk queue, whose URL it gets', () => {
    for (const job of schedules) expect(actionsOf(dev, job.handler)).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
    const [queueId] = resourcesOfType(dev.json, 'AWS::SQS::Queue').find(([id]) => id.startsWith('RegularClearChunksQueue')) ?? [];
    expect(queueId).toBeDefined();
    const sendersToChunks = [...dev.stack.functions.keys()].filter((name) =>
      statementsOf(dev, name).some((st) => st.actions.includes('sqs:SendMessage') && JSON.stringify(st.resource).includes(`"${queueId}"`)),
    );
    expect(sendersToChunks).toEqual(['regular-clear']);
    expect(ref(envOf(dev, 'regular-clear')[REGULAR_CLEAR_QUEUE.urlEnv])).toBe(queueId);
    expect(envOf(dev, 'janitor')).not.toHaveProperty(REGULAR_CLEAR_QUEUE.urlEnv);
  });
});

describe('the regular-clear chunk queue', () => {
  const queueOf = (s: Synthesized): [string, CfnResource] => {
    const found = resourcesOfType(s.json, 'AWS::SQS::Queue').find(([id]) => id.startsWith('RegularClearChunksQueue'));
    if (!found) throw new Error('no chunk queue');
    return found;
  };

  it('feeds the worker one chunk at a time, two workers at most, reporting partial failures', () => {
    const [queueId] = queueOf(dev);
    const fnId = functionLogicalId(dev, REGULAR_CLEAR_QUEUE.handler);
    const mappings = resourcesOfType(dev.json, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties?.FunctionName).includes(fnId));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: REGULAR_CLEAR_QUEUE.maxConcurrency },
    });
    expect(getAtt(mappings[0]![1].Properties?.EventSourceArn)).toBe(queueId);
  });

  it('retries a failed chunk after the visibility timeout (longer than the worker may run), then dead-letters it with an alarm', () => {
    const [, queue] = queueOf(dev);
    const props = queue.Properties!;
    expect(props.VisibilityTimeout).toBe(REGULAR_CLEAR_QUEUE.visibilityTimeoutSeconds);
    expect(REGULAR_CLEAR_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(REGULAR_CLEAR_QUEUE.timeoutSeconds);
    expect(dev.json.Resources[functionLogicalId(dev, REGULAR_CLEAR_QUEUE.handler)]?.Properties?.Timeout).toBe(REGULAR_CLEAR_QUEUE.timeoutSeconds);
    const redrive = props.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    expect(redrive.maxReceiveCount).toBe(REGULAR_CLEAR_QUEUE.maxReceiveCount);
    expect(alarmsOn(dev, getAtt(redrive.deadLetterTargetArn))).toHaveLength(1);
  });

  it('gives the worker the RongCloud settings and secret (when configured) and the rate from context', () => {
    expect(actionsOf(dev, REGULAR_CLEAR_QUEUE.handler)).not.toContain('secretsmanager:GetSecretValue');
    expect(actionsOf(withRongCloud, REGULAR_CLEAR_QUEUE.handler)).toContain('secretsmanager:GetSecretValue');
    expect(envOf(withRongCloud, REGULAR_CLEAR_QUEUE.handler)).toMatchObject({ RONGCLOUD_APP_KEY: 'app-key-1', REGULAR_CLEAR_RATE: '40' });
    expect(envOf(dev, REGULAR_CLEAR_QUEUE.handler)).not.toHaveProperty('REGULAR_CLEAR_RATE');
  });
});
