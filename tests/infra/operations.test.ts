import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { Annotations } from 'aws-cdk-lib/assertions';
import { LOG_LEVELS } from '#infra/function.ts';
import { ALARMS, FUNCTION_GROUPS, RELAY_STREAM } from '#infra/stack.ts';
import { parseConfig } from '#lib/config.ts';
import { callerFromEvent } from '#lib/http/caller.ts';
import { allFunctions, NOTIFIER_QUEUE, OUTBOX_RELAY_HANDLER, REGULAR_CLEAR_QUEUE, schedules } from '#lib/routes.ts';
import { functionLogicalId, resourcesOfType, synthStack } from './helpers.ts';
import type { CfnResource, Synthesized } from './helpers.ts';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';

// Built once per file: the default dev stack (no alarm destination, own Cognito), a dev stack with
// email alarms, a debug log level and a custom domain, and a prod stack importing an alarm topic.
const dev = synthStack();
const CERTIFICATE = 'arn:aws:acm:eu-west-1:111122223333:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const emailed = synthStack(
  { env: { account: '111122223333', region: 'eu-west-1' } },
  { alarmEmail: 'ops@example.com, oncall@example.com', logLevel: 'debug', domainName: 'groups.example.com', certificateArn: CERTIFICATE },
);
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:pager';
const prod = synthStack({}, { stage: 'prod', jwtIssuer: 'https://issuer.example.com/', jwtAudience: 'app', alarmTopicArn: TOPIC });

interface AlarmProps {
  AlarmName: string;
  AlarmDescription: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
  TreatMissingData?: string;
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  Period?: number;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: {
    Id: string;
    Expression?: string;
    ReturnData?: boolean;
    MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] }; Period: number; Stat: string };
  }[];
}

const alarmsOf = (s: Synthesized): AlarmProps[] =>
  resourcesOfType(s.json, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as unknown as AlarmProps);
const alarmNamed = (s: Synthesized, id: string): AlarmProps => {
  const found = alarmsOf(s).filter((a) => a.AlarmName === `sealtalk-group-${s.stack.stage}-${id}`);
  expect(found, id).toHaveLength(1);
  return found[0]!;
};
const ref = (id: string) => ({ Ref: id });
const onlyOfType = (s: Synthesized, type: string): [string, CfnResource] => {
  const found = resourcesOfType(s.json, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const logicalId = (s: Synthesized, construct: { node: { defaultChild?: unknown } }): string =>
  s.stack.getLogicalId(construct.node.defaultChild as never);

// The dashboard body is an Fn::Join of JSON text and tokens (inside JSON strings): tokens become
// `Ref:<id>` / `GetAtt:<id>.<attr>` so the body parses.
interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; alarms?: unknown[]; markdown?: string };
}
const dashboardOf = (s: Synthesized): { name: unknown; widgets: Widget[] } => {
  const [, dashboard] = onlyOfType(s, 'AWS::CloudWatch::Dashboard');
  const body = dashboard.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const token = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (token.Ref) return `Ref:${token.Ref}`;
      if (token['Fn::GetAtt']) return `GetAtt:${token['Fn::GetAtt'].join('.')}`;
      return `Token:${JSON.stringify(part).replace(/"/g, "'")}`;
    })
    .join('');
  return { name: dashboard.Properties?.DashboardName, widgets: (JSON.parse(text) as { widgets: Widget[] }).widgets };
};
const widget = (s: Synthesized, title: string): Widget => {
  const found = dashboardOf(s).widgets.filter((w) => w.properties.title === title);
  expect(found, title).toHaveLength(1);
  return found[0]!;
};
/** `[namespace, metricName, ...dims, options]` rows of a graph widget (expressions excluded). */
const metricRows = (w: Widget): unknown[][] => (w.properties.metrics ?? []).filter((m) => typeof m[0] === 'string');
const expressions = (w: Widget): string[] =>
  (w.properties.metrics ?? []).flatMap((m) => m.filter((x): x is { expression: string } => typeof x === 'object' && x !== null && 'expression' in x)).map((x) => x.expression);

const DEAD_LETTER_QUEUES = [
  'OutboxRelayFailures',
  'NotifierDeadLetters',
  'UserProfileUpdatedDeadLetters',
  'GroupCleanupDeadLetters',
  'RegularClearWorkerDeadLetters',
  'ScheduledJobFailures',
];
const queueIdOf = (s: Synthesized, id: string): string => {
  const queue = s.stack.deadLetterQueues.get(id);
  if (!queue) throw new Error(`no dead-letter queue ${id}`);
  return logicalId(s, queue);
};

describe('alarm notifications', () => {
  it('without alarmTopicArn or alarmEmail, creates no topic, gives no alarm an action, and warns at synth', () => {
    dev.template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of alarmsOf(dev)) {
      expect(alarm.AlarmActions, alarm.AlarmName).toBeUndefined();
      expect(alarm.OKActions, alarm.AlarmName).toBeUndefined();
    }
    Annotations.fromStack(dev.stack).hasWarning('/GroupServiceTest', Match.stringLikeRegexp('no alarmTopicArn or alarmEmail'));
    expect(dev.json.Outputs).not.toHaveProperty('AlarmTopicArn');
  });

  it("with alarmEmail, creates the stage's alarm topic, subscribes every address and outputs the topic ARN", () => {
    const [topicId, topic] = onlyOfType(emailed, 'AWS::SNS::Topic');
    expect(topic.Properties?.TopicName).toBe('sealtalk-group-dev-alarms');
    const subscriptions = resourcesOfType(emailed.json, 'AWS::SNS::Subscription').map(([, r]) => r.Properties);
    expect(subscriptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: ref(topicId) }),
        expect.objectContaining({ Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: ref(topicId) }),
      ]),
    );
    expect(subscriptions).toHaveLength(2);
    expect(emailed.json.Outputs?.AlarmTopicArn?.Value).toEqual(ref(topicId));
    Annotations.fromStack(emailed.stack).hasNoWarning('*', Match.stringLikeRegexp('alarmTopicArn'));
  });

  it('sends every alarm of the stack, the dead-letter queue alarms included, to the topic on alarm and on OK', () => {
    const [topicId] = onlyOfType(emailed, 'AWS::SNS::Topic');
    const alarms = alarmsOf(emailed);
    const alarmedQueues = JSON.stringify(alarms.map((a) => a.Dimensions ?? []));
    for (const id of DEAD_LETTER_QUEUES) expect(alarmedQueues, id).toContain(queueIdOf(emailed, id));
    for (const alarm of alarms) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([ref(topicId)]);
      expect(alarm.OKActions, alarm.AlarmName).toEqual([ref(topicId)]);
    }
  });

  it('with alarmTopicArn, imports that topic (creating none, outputting none) and every alarm notifies it', () => {
    prod.template.resourceCountIs('AWS::SNS::Topic', 0);
    prod.template.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(prod.json.Outputs).not.toHaveProperty('AlarmTopicArn');
    for (const alarm of alarmsOf(prod)) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([TOPIC]);
      expect(alarm.OKActions, alarm.AlarmName).toEqual([TOPIC]);
    }
  });

  it('refuses both destinations at once, a malformed topic ARN and a malformed address', () => {
    expect(() => synthStack({}, { alarmTopicArn: TOPIC, alarmEmail: 'ops@example.com' })).toThrow(/alarmTopicArn or alarmEmail, not both/);
    expect(() => synthStack({}, { alarmTopicArn: 'pager' })).toThrow(/alarmTopicArn must be an SNS topic ARN/);
    expect(() => synthStack({}, { alarmEmail: 'ops@example.com,not-an-address' })).toThrow(/alarmEmail: not an email address: not-an-address/);
  });
});

describe('alarms', () => {
  it('describe what they mean and what to do (pointing to README "Operating"), carry the stage in their name, and treat missing data deliberately', () => {
    const alarms = alarmsOf(dev);
    expect(alarms.length).toBeGreaterThanOrEqual(DEAD_LETTER_QUEUES.length + 5);
    for (const alarm of alarms) {
      expect(alarm.AlarmName).toMatch(/^sealtalk-group-dev-[A-Za-z0-9]+$/);
      expect(alarm.AlarmDescription, alarm.AlarmName).toContain('README "Operating"');
      expect(alarm.AlarmDescription.length, alarm.AlarmName).toBeGreaterThan(120);
      // Each watched metric is only published when something happens: no data is not a failure.
      expect(alarm.TreatMissingData, alarm.AlarmName).toBe('notBreaching');
    }
  });

  it("fire on the HTTP API's 5xx rate of the $default stage over 5 minutes, when there were enough requests", () => {
    const alarm = alarmNamed(dev, 'Api5xxRate');
    const apiId = logicalId(dev, dev.stack.api);
    const stats = alarm.Metrics!.filter((m) => m.MetricStat);
    expect(stats.map((m) => m.MetricStat!.Metric.MetricName).sort()).toEqual(['5xx', 'Count']);
    for (const { MetricStat } of stats) {
      expect(MetricStat).toEqual({
        Metric: {
          Namespace: 'AWS/ApiGateway',
          MetricName: expect.any(String),
          Dimensions: [
            { Name: 'ApiId', Value: ref(apiId) },
            { Name: 'Stage', Value: '$default' },
          ],
        },
        Period: 300,
        Stat: 'Sum',
      });
    }
    const idOf = (name: string) => stats.find((m) => m.MetricStat!.Metric.MetricName === name)!.Id;
    const [expression] = alarm.Metrics!.filter((m) => m.ReturnData !== false);
    expect(expression?.Expression).toBe(
      `IF(${idOf('Count')} >= ${ALARMS.api5xxMinRequests}, 100 * FILL(${idOf('5xx')}, 0) / ${idOf('Count')}, 0)`,
    );
    expect(alarm).toMatchObject({ Threshold: ALARMS.api5xxPercent, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    expect(ALARMS.api5xxPercent).toBe(1);
  });

  it('fire on any Lambda throttle of any function, summing at most 10 functions per alarm (the metric math limit)', () => {
    const throttleAlarms = alarmsOf(dev).filter((a) => /Throttles\d*$/.test(a.AlarmName));
    const watched: unknown[] = [];
    for (const alarm of throttleAlarms) {
      const stats = alarm.Metrics!.filter((m) => m.MetricStat);
      expect(stats.length, alarm.AlarmName).toBeLessThanOrEqual(10);
      for (const { MetricStat } of stats) {
        expect(MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/Lambda', MetricName: 'Throttles' }, Period: 300, Stat: 'Sum' });
        watched.push(MetricStat!.Metric.Dimensions[0]!.Value);
      }
      const [expression] = alarm.Metrics!.filter((m) => m.ReturnData !== false);
      expect(expression?.Expression, alarm.AlarmName).toBe(stats.map((m) => `FILL(${m.Id}, 0)`).join(' + '));
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 });
    }
    // Every function exactly once.
    expect(watched).toHaveLength(allFunctions().length);
    expect(new Set(watched.map((v) => (v as { Ref: string }).Ref))).toEqual(new Set(allFunctions().map((name) => functionLogicalId(dev, name))));
  });

  it('fire when the notifier fails whole invocations in 2 of 3 five-minute periods', () => {
    expect(alarmNamed(dev, 'NotifierErrors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref(functionLogicalId(dev, 'notifier')) }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: ALARMS.notifierErrors.periods,
      DatapointsToAlarm: ALARMS.notifierErrors.datapoints,
    });
  });

  it("fire when the relay's stream iterator age stays above 60 s for 5 minutes", () => {
    expect(alarmNamed(dev, 'RelayIteratorAge')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: ref(functionLogicalId(dev, OUTBOX_RELAY_HANDLER)) }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 60_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
    expect(RELAY_STREAM.maxRecordAgeHours * 3600 * 1000).toBeGreaterThan(ALARMS.relayIteratorAge.ms);
  });

  it("fire when a queue's oldest message is older than retries (notifier) or the producer's period (regular-clear chunks) explain", () => {
    const sourceQueue = (handler: string): string => {
      const mapping = resourcesOfType(dev.json, 'AWS::Lambda::EventSourceMapping').find(([, m]) =>
        JSON.stringify(m.Properties?.FunctionName).includes(functionLogicalId(dev, handler)),
      );
      return (mapping![1].Properties!.EventSourceArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    };
    const notifier = alarmNamed(dev, 'NotifierQueueAge');
    expect(notifier).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: NOTIFIER_QUEUE.visibilityTimeoutSeconds * NOTIFIER_QUEUE.maxReceiveCount,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(JSON.stringify(notifier.Dimensions)).toContain(sourceQueue('notifier'));
    const chunks = alarmNamed(dev, 'RegularClearChunksQueueAge');
    const producer = schedules.find((j) => j.sendsTo === REGULAR_CLEAR_QUEUE.name)!;
    expect(chunks).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: producer.everyMs / 1000, ComparisonOperator: 'GreaterThanThreshold' });
    expect(JSON.stringify(chunks.Dimensions)).toContain(sourceQueue(REGULAR_CLEAR_QUEUE.handler));
  });
});

describe('the dashboard', () => {
  it('is named after the stage, and its name is an output', () => {
    expect(dashboardOf(dev).name).toBe('sealtalk-group-dev');
    expect(dashboardOf(prod).name).toBe('sealtalk-group-prod');
    const [id] = onlyOfType(dev, 'AWS::CloudWatch::Dashboard');
    expect(dev.json.Outputs?.DashboardName?.Value).toEqual(ref(id));
  });

  it('shows the state of every alarm', () => {
    const status = dashboardOf(dev).widgets.filter((w) => w.type === 'alarm');
    expect(status).toHaveLength(1);
    const shown = new Set((status[0]!.properties.alarms as string[]).map((a) => a.replace(/^GetAtt:/, '').replace(/\.Arn$/, '')));
    expect(shown).toEqual(new Set(resourcesOfType(dev.json, 'AWS::CloudWatch::Alarm').map(([id]) => id)));
  });

  it('shows API requests, 4xx, 5xx and latency p50/p95 of the $default stage', () => {
    const apiId = logicalId(dev, dev.stack.api);
    const rows = [...metricRows(widget(dev, 'API requests')), ...metricRows(widget(dev, 'API 4xx / 5xx')), ...metricRows(widget(dev, 'API latency (ms)'))];
    const has = (metric: string, stat: string) =>
      rows.some((r) => r[0] === 'AWS/ApiGateway' && r[1] === metric && r[3] === `Ref:${apiId}` && r[5] === '$default' && (r[6] as { stat: string }).stat === stat);
    expect(has('Count', 'Sum')).toBe(true);
    expect(has('4xx', 'Sum')).toBe(true);
    expect(has('5xx', 'Sum')).toBe(true);
    expect(has('Latency', 'p50')).toBe(true);
    expect(has('Latency', 'p95')).toBe(true);
  });

  it('shows Lambda errors and throttles of every function, one graph per function group', () => {
    expect(FUNCTION_GROUPS.flatMap((g) => g.functions).sort()).toEqual([...allFunctions()].sort());
    for (const group of FUNCTION_GROUPS) {
      for (const metric of ['Errors', 'Throttles']) {
        const rows = metricRows(widget(dev, `${metric}: ${group.title}`));
        expect(rows.map((r) => [r[0], r[1], r[3]])).toEqual(group.functions.map((name) => ['AWS/Lambda', metric, `Ref:${functionLogicalId(dev, name)}`]));
      }
    }
  });

  it("shows every dead-letter queue's depth and the relay's iterator age", () => {
    const depths = metricRows(widget(dev, 'Dead-letter queues (messages)'));
    expect(depths.map((r) => [r[1], r[3]])).toEqual(
      DEAD_LETTER_QUEUES.map((id) => ['ApproximateNumberOfMessagesVisible', `GetAtt:${queueIdOf(dev, id)}.QueueName`]),
    );
    const relay = metricRows(widget(dev, 'Outbox relay: iterator age and lag (ms)'));
    expect(relay).toEqual(
      expect.arrayContaining([['AWS/Lambda', 'IteratorAge', 'FunctionName', `Ref:${functionLogicalId(dev, OUTBOX_RELAY_HANDLER)}`, expect.objectContaining({ stat: 'Maximum' })]]),
    );
  });

  it("shows the service's own metrics, by SEARCH wherever a dimension varies, so new routes and event types need no change", () => {
    const searches = dashboardOf(dev).widgets.flatMap(expressions);
    const search = (schema: string, name: string, stat: string) =>
      `SEARCH('{SealTalkGroup,${schema}} MetricName="${name}" Service="sealtalk-group"', '${stat}', 300)`;
    expect(searches.sort()).toEqual(
      [
        search('Service,Route,Status', 'Requests', 'Sum'),
        search('Service,Route', 'RequestLatency', 'p95'),
        search('Service,EventType', 'DomainEvents', 'Sum'),
        search('Service,EventType', 'DomainEventsFailed', 'Sum'),
        search('Service,Path,Outcome', 'ImCalls', 'Sum'),
        search('Service,Path', 'ImCallLatency', 'p95'),
      ].sort(),
    );
    // RelayLag has a fixed dimension set: a plain metric.
    const relay = metricRows(widget(dev, 'Outbox relay: iterator age and lag (ms)'));
    expect(relay.filter((r) => r[0] === 'SealTalkGroup').map((r) => r.slice(0, 4))).toEqual([
      ['SealTalkGroup', 'RelayLag', 'Service', 'sealtalk-group'],
      ['SealTalkGroup', 'RelayLag', 'Service', 'sealtalk-group'],
    ]);
  });
});

describe('functions', () => {
  const envOf = (s: Synthesized, name: string): Record<string, unknown> =>
    (s.json.Resources[functionLogicalId(s, name)]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;

  it('get LOG_LEVEL from context logLevel on every function, info by default', () => {
    for (const name of allFunctions()) {
      expect(envOf(dev, name).LOG_LEVEL, name).toBe('info');
      expect(envOf(emailed, name).LOG_LEVEL, name).toBe('debug');
    }
  });

  it('refuse a log level lib/log.ts does not know; every accepted one is one lib/config.ts accepts', () => {
    expect(() => synthStack({}, { logLevel: 'verbose' })).toThrow(/logLevel must be one of debug, info, warn, error, silent, got 'verbose'/);
    for (const level of LOG_LEVELS) expect(parseConfig({ TABLE_NAME: 't', LOG_LEVEL: level }).LOG_LEVEL).toBe(level);
    expect(() => parseConfig({ TABLE_NAME: 't', LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL/);
  });

  it('state the plain text log format on every function, so our JSON lines arrive unchanged and Lambda filters no level', () => {
    for (const [id, fn] of resourcesOfType(dev.json, 'AWS::Lambda::Function')) {
      const logging = fn.Properties?.LoggingConfig as Record<string, unknown>;
      expect(logging.LogFormat, id).toBe('Text');
      expect(logging, id).not.toHaveProperty('ApplicationLogLevel');
      expect(logging, id).not.toHaveProperty('SystemLogLevel');
    }
  });
});

describe('outputs', () => {
  it('keep the API URL, table, bus and user pool ids, and add each dead-letter queue name and the dashboard name', () => {
    expect(Object.keys(dev.json.Outputs ?? {})).toEqual(
      expect.arrayContaining(['ApiUrl', 'TableName', 'EventBusName', 'UserPoolId', 'UserPoolClientId', 'DashboardName']),
    );
    expect([...dev.stack.deadLetterQueues.keys()].sort()).toEqual([...DEAD_LETTER_QUEUES].sort());
    for (const id of DEAD_LETTER_QUEUES) {
      expect(dev.json.Outputs?.[`${id}Name`]?.Value, id).toEqual({ 'Fn::GetAtt': [queueIdOf(dev, id), 'QueueName'] });
    }
  });
});

describe('the Cognito user pool', () => {
  const [, pool] = onlyOfType(dev, 'AWS::Cognito::UserPool');
  const [clientId, client] = onlyOfType(dev, 'AWS::Cognito::UserPoolClient');

  it('defines the custom profile attributes st_account (string) and group_verify (0/1), both mutable, and pins no standard one', () => {
    // name, picture, phone_number and gender are standard: present, mutable and optional in every
    // pool. Listing them would add type-less schema entries that break later pool updates.
    expect(pool.Properties?.Schema).toEqual([
      { Name: 'st_account', AttributeDataType: 'String', Mutable: true, StringAttributeConstraints: { MinLength: '1', MaxLength: '64' } },
      { Name: 'group_verify', AttributeDataType: 'Number', Mutable: true, NumberAttributeConstraints: { MinValue: '0', MaxValue: '1' } },
    ]);
  });

  it('lets apps sign in with SRP and operators get a token from the CLI (admin password auth, IAM-signed); no plain password flow', () => {
    expect([...(client.Properties?.ExplicitAuthFlows as string[])].sort()).toEqual(
      ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH'].sort(),
    );
  });

  it('lets the app client read (so its ID tokens carry them) and write every profile attribute', () => {
    const profile = ['name', 'picture', 'phone_number', 'gender', 'custom:st_account', 'custom:group_verify'];
    expect(client.Properties?.ReadAttributes).toEqual(expect.arrayContaining(profile));
    expect([...(client.Properties?.WriteAttributes as string[])].sort()).toEqual([...profile].sort());
  });

  it("checks ID tokens of that client, whose claims (custom: ones included) become the caller's whole profile", () => {
    const [, authorizer] = onlyOfType(dev, 'AWS::ApiGatewayV2::Authorizer');
    expect((authorizer.Properties?.JwtConfiguration as { Audience: unknown[] }).Audience).toEqual([ref(clientId)]);
    // An ID token's claims as API Gateway hands them over (strings), named as the client reads them.
    const values: Record<string, string> = {
      name: 'Alice',
      picture: 'https://img.example/a.png',
      phone_number: '+8613800000000',
      gender: 'female',
      'custom:st_account': 'alice01',
      'custom:group_verify': '0',
    };
    const claims: Record<string, string> = { sub: 'user-1', aud: 'client', token_use: 'id' };
    for (const attribute of client.Properties?.ReadAttributes as string[]) if (attribute in values) claims[attribute] = values[attribute]!;
    const event = { requestContext: { authorizer: { jwt: { claims, scopes: null } } } } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
    expect(callerFromEvent(event)).toEqual({
      userId: 'user-1',
      profile: { nickname: 'Alice', portraitUri: 'https://img.example/a.png', phone: '+8613800000000', gender: 'female', stAccount: 'alice01', groupVerify: 0 },
    });
  });
});

describe('the custom domain', () => {
  it('maps domainName to the $default stage with the given certificate and outputs the regional name to CNAME to', () => {
    const [domainId, domain] = onlyOfType(emailed, 'AWS::ApiGatewayV2::DomainName');
    expect(domain.Properties).toEqual({
      DomainName: 'groups.example.com',
      DomainNameConfigurations: [{ CertificateArn: CERTIFICATE, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
    });
    const [, mapping] = onlyOfType(emailed, 'AWS::ApiGatewayV2::ApiMapping');
    expect(mapping.Properties).toEqual({ ApiId: ref(logicalId(emailed, emailed.stack.api)), DomainName: ref(domainId), Stage: '$default' });
    expect(emailed.json.Outputs?.CustomDomainTarget?.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
    expect(emailed.json.Outputs?.ApiUrl).toBeDefined();
  });

  it('is absent without domainName and certificateArn', () => {
    dev.template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    dev.template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 0);
    expect(dev.json.Outputs).not.toHaveProperty('CustomDomainTarget');
  });

  it("refuses one without the other, a malformed name or ARN, and a certificate outside the stack's region", () => {
    expect(() => synthStack({}, { domainName: 'groups.example.com' })).toThrow(/give both domainName and certificateArn/);
    expect(() => synthStack({}, { certificateArn: CERTIFICATE })).toThrow(/give both domainName and certificateArn/);
    expect(() => synthStack({}, { domainName: 'groups example', certificateArn: CERTIFICATE })).toThrow(/domainName must be a DNS name/);
    expect(() => synthStack({}, { domainName: 'groups.example.com', certificateArn: 'cert-1' })).toThrow(/certificateArn must be an ACM certificate ARN/);
    expect(() =>
      synthStack({ env: { account: '111122223333', region: 'us-east-1' } }, { domainName: 'groups.example.com', certificateArn: CERTIFICATE }),
    ).toThrow(/certificateArn is in eu-west-1.*us-east-1/);
  });
});

describe('prod', () => {
  it('still retains its data: the table, every queue and every log group', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::Logs::LogGroup']) {
      const resources = resourcesOfType(prod.json, type);
      expect(resources.length, type).toBeGreaterThan(0);
      for (const [id, r] of resources) expect(r.DeletionPolicy, id).toBe('Retain');
    }
  });
});
