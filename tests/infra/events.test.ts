import { describe, expect, it } from 'vitest';
import { eventTypes } from '#lib/events/index.ts';
import { eventJsonSchema } from '#lib/events/json-schema.ts';
import { OUTBOX_STREAM_FILTER } from '#lib/events/outbox.ts';
import { consumers, eventPatternOf, NOTIFIER_MAX_CONCURRENCY, NOTIFIER_QUEUE, OUTBOX_RELAY_HANDLER, REGULAR_CLEAR_QUEUE } from '#lib/routes.ts';
import { RELAY_STREAM } from '#infra/stack.ts';
import { actionsOf, functionLogicalId, resourcesOfType, synthStack } from './helpers.ts';
import type { CfnResource, Synthesized } from './helpers.ts';

const dev = synthStack();
const withRongCloud = synthStack({}, { rongcloudAppKey: 'app-key-1', rongcloudApiUrl: 'https://a.example,https://b.example' });
const imported = synthStack(
  {},
  { rongcloudAppKey: 'app-key-1', rongcloudSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rc-AbCdEf' },
);

const logicalId = (s: Synthesized, construct: { node: { defaultChild?: unknown } }): string =>
  s.stack.getLogicalId(construct.node.defaultChild as never);
const mappingOf = (s: Synthesized, name: string): CfnResource => {
  const fnId = functionLogicalId(s, name);
  const found = resourcesOfType(s.json, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties?.FunctionName).includes(fnId));
  expect(found, name).toHaveLength(1);
  return found[0]![1];
};
const getAtt = (value: unknown): string => (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const ref = (value: unknown): string => (value as { Ref: string }).Ref;
const notifier = consumers.find((c) => c.handler === 'notifier')!;

describe('the outbox relay', () => {
  it('reads the table stream from the start, only outbox inserts, by a filter', () => {
    const mapping = mappingOf(dev, OUTBOX_RELAY_HANDLER).Properties!;
    expect(getAtt(mapping.EventSourceArn)).toBe(logicalId(dev, dev.stack.table));
    expect(mapping.StartingPosition).toBe('TRIM_HORIZON');
    expect(mapping.FilterCriteria).toEqual({ Filters: [{ Pattern: JSON.stringify(OUTBOX_STREAM_FILTER) }] });
  });

  it('reports failed records, bisects, retries, and sends what still fails to a failure queue', () => {
    const mapping = mappingOf(dev, OUTBOX_RELAY_HANDLER).Properties!;
    expect(mapping).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: RELAY_STREAM.retryAttempts,
      MaximumRecordAgeInSeconds: RELAY_STREAM.maxRecordAgeHours * 3600,
      BatchSize: RELAY_STREAM.batchSize,
    });
    const destination = (mapping.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination;
    expect(dev.json.Resources[getAtt(destination)]?.Type).toBe('AWS::SQS::Queue');
  });

  it('may put events on the bus and nothing else on it; it has no table access beyond the stream', () => {
    const actions = actionsOf(dev, OUTBOX_RELAY_HANDLER);
    expect(actions).toContain('events:PutEvents');
    const tableActions = actions.filter((a) => a.startsWith('dynamodb:'));
    expect(tableActions.filter((a) => !['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'].includes(a))).toEqual([]);
    const env = dev.json.Resources[functionLogicalId(dev, OUTBOX_RELAY_HANDLER)]?.Properties?.Environment as { Variables: Record<string, unknown> };
    expect(ref(env.Variables.EVENT_BUS_NAME)).toBe(logicalId(dev, dev.stack.bus));
  });
});

describe('the notifier', () => {
  it('has one rule whose pattern lists exactly the event schemas, targeting its queue', () => {
    expect(eventPatternOf(notifier)).toEqual({ source: ['sealtalk.group'], 'detail-type': eventTypes });
    const rules = resourcesOfType(dev.json, 'AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties?.EventPattern) === JSON.stringify(eventPatternOf(notifier)),
    );
    expect(rules).toHaveLength(1);
    const [target] = rules[0]![1].Properties!.Targets as { Arn: unknown; DeadLetterConfig: { Arn: unknown }; RetryPolicy: unknown }[];
    expect(dev.json.Resources[getAtt(target!.Arn)]?.Type).toBe('AWS::SQS::Queue');
    expect(target!.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
    expect(getAtt(target!.DeadLetterConfig.Arn)).toMatch(/NotifierDeadLetters/);
  });

  it('consumes the queue in batches with partial failures and a concurrency cap', () => {
    const mapping = mappingOf(dev, 'notifier').Properties!;
    expect(mapping).toMatchObject({
      BatchSize: NOTIFIER_QUEUE.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: NOTIFIER_MAX_CONCURRENCY },
    });
    const env = dev.json.Resources[functionLogicalId(dev, 'notifier')]?.Properties?.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.NOTIFIER_RATE_SHARE).toBe(String(NOTIFIER_MAX_CONCURRENCY));
  });

  it('redelivers a failed message, then moves it to a dead-letter queue with an alarm on its depth', () => {
    const queueId = getAtt(mappingOf(dev, 'notifier').Properties!.EventSourceArn);
    const queue = dev.json.Resources[queueId]!.Properties!;
    expect(queue.VisibilityTimeout).toBe(NOTIFIER_QUEUE.visibilityTimeoutSeconds);
    expect(NOTIFIER_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(NOTIFIER_QUEUE.timeoutSeconds * 6);
    const redrive = queue.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    expect(redrive.maxReceiveCount).toBe(NOTIFIER_QUEUE.maxReceiveCount);
    const dlq = getAtt(redrive.deadLetterTargetArn);
    expect(dev.json.Resources[dlq]?.Properties?.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const alarms = resourcesOfType(dev.json, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      JSON.stringify(a.Properties?.Dimensions ?? []).includes(dlq),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]![1].Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    // The notifier dead-letters events it must not retry itself.
    const env = dev.json.Resources[functionLogicalId(dev, 'notifier')]?.Properties?.Environment as { Variables: Record<string, unknown> };
    expect(ref(env.Variables.NOTIFIER_DLQ_URL)).toBe(dlq);
    expect(actionsOf(dev, 'notifier')).toContain('sqs:SendMessage');
  });

  it('has an alarm on every dead-letter queue of the pipeline', () => {
    const queues = resourcesOfType(dev.json, 'AWS::SQS::Queue').filter(([id]) => /DeadLetters|Failures/.test(id));
    expect(queues.length).toBeGreaterThanOrEqual(3);
    const alarmed = JSON.stringify(resourcesOfType(dev.json, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties?.Dimensions));
    for (const [id] of queues) expect(alarmed, id).toContain(id);
  });

  it('logs instead of calling RongCloud when no app key is configured, with no secret at all', () => {
    const env = dev.json.Resources[functionLogicalId(dev, 'notifier')]?.Properties?.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables).not.toHaveProperty('RONGCLOUD_APP_KEY');
    expect(resourcesOfType(dev.json, 'AWS::SecretsManager::Secret')).toHaveLength(0);
  });

  it('creates the app secret when none is imported and lets only the RongCloud callers (notifier, regular-clear worker) read it', () => {
    const secrets = resourcesOfType(withRongCloud.json, 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const env = withRongCloud.json.Resources[functionLogicalId(withRongCloud, 'notifier')]?.Properties?.Environment as {
      Variables: Record<string, unknown>;
    };
    expect(env.Variables).toMatchObject({ RONGCLOUD_APP_KEY: 'app-key-1', RONGCLOUD_API_URL: 'https://a.example,https://b.example' });
    expect(ref(env.Variables.RONGCLOUD_APP_SECRET_ARN)).toBe(secrets[0]![0]);
    expect(env.Variables).not.toHaveProperty('RONGCLOUD_APP_SECRET');
    for (const name of withRongCloud.stack.functions.keys()) {
      const reads = actionsOf(withRongCloud, name).includes('secretsmanager:GetSecretValue');
      expect(reads, name).toBe(name === 'notifier' || name === REGULAR_CLEAR_QUEUE.handler);
    }
  });

  it('uses an imported secret by its ARN', () => {
    expect(resourcesOfType(imported.json, 'AWS::SecretsManager::Secret')).toHaveLength(0);
    const env = imported.json.Resources[functionLogicalId(imported, 'notifier')]?.Properties?.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.RONGCLOUD_APP_SECRET_ARN).toBe('arn:aws:secretsmanager:us-east-1:111122223333:secret:rc-AbCdEf');
  });
});

describe('the event contract', () => {
  it('registers one JSON Schema per event, generated from the zod schemas', () => {
    expect(resourcesOfType(dev.json, 'AWS::EventSchemas::Registry')).toHaveLength(1);
    const schemas = resourcesOfType(dev.json, 'AWS::EventSchemas::Schema').map(([, r]) => r.Properties!);
    expect(schemas.map((s) => s.SchemaName).sort()).toEqual(eventTypes.map((t) => `sealtalk.group@${t}`).sort());
    for (const type of eventTypes) {
      const schema = schemas.find((s) => s.SchemaName === `sealtalk.group@${type}`)!;
      expect(schema.Type).toBe('JSONSchemaDraft4');
      expect(JSON.parse(schema.Content as string)).toEqual(eventJsonSchema(type));
    }
  });
});
