import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { eventTypes } from '#lib/events/index.ts';
import { eventJsonSchema, SCHEMA_REGISTRY_NAME } from '#lib/events/json-schema.ts';
import { OUTBOX_STREAM_FILTER } from '#lib/events/outbox.ts';
import { consumers, eventPatternOf, functionOf, httpFunctions, NOTIFIER_QUEUE, OUTBOX_RELAY_HANDLER, routeKey, routes, schedules, workQueues } from '#lib/routes.ts';
import type { EventConsumer, Route, ScheduledJob, TableAccess, WorkQueue } from '#lib/routes.ts';
import { TABLE } from '#lib/store/table.ts';
import { tableDefinition } from '#lib/store/table-definition.ts';
import { GroupFunction, LOG_LEVELS } from './function.ts';
import type { GroupFunctionProps, LogLevel } from './function.ts';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** Every prop falls back to the CDK context key of the same name (`cdk synth -c stage=prod`). */
export interface GroupServiceStackProps extends StackProps {
  /** @default 'dev' */
  readonly stage?: Stage;
  /** JWT issuer URL. With `jwtAudience`; when both are absent the stack creates a Cognito user pool. */
  readonly jwtIssuer?: string;
  /** Accepted `aud` (or Cognito `client_id`) values; a comma-separated string in context. */
  readonly jwtAudience?: readonly string[];
  /** Allowed CORS origins (comma-separated in context); no CORS configuration when absent. */
  readonly corsOrigins?: readonly string[];
  /** Where the function bundles are (`dist/functions` by default). */
  readonly functionsDir?: string;
  /**
   * RongCloud app key. Without it the notifier logs each IM call instead of sending it (context
   * `rongcloudAppKey`).
   */
  readonly rongcloudAppKey?: string;
  /** Comma-separated primary,backup base URLs (context `rongcloudApiUrl`; default RongCloud's China DC). */
  readonly rongcloudApiUrl?: string;
  /**
   * ARN of an existing Secrets Manager secret holding the app secret (context `rongcloudSecretArn`).
   * When absent and an app key is given, the stack creates an empty secret to fill in.
   */
  readonly rongcloudSecretArn?: string;
  /** 's' (default, what the official SDKs send) or 'ms' (context `rongcloudTimestampUnit`). */
  readonly rongcloudTimestampUnit?: 's' | 'ms';
  /** `LOG_LEVEL` of every function: debug, info, warn, error or silent (context `logLevel`). @default 'info' */
  readonly logLevel?: LogLevel;
  /** ARN of an existing SNS topic every alarm notifies (context `alarmTopicArn`). Not with `alarmEmail`. */
  readonly alarmTopicArn?: string;
  /**
   * Addresses subscribed by email to an alarm topic the stack creates, `sealtalk-group-<stage>-alarms`
   * (context `alarmEmail`, comma-separated). Not with `alarmTopicArn`; with neither, alarms notify nobody.
   */
  readonly alarmEmail?: readonly string[];
  /** Custom domain of the API, e.g. `im-groups.example.com` (context `domainName`); needs `certificateArn`. */
  readonly domainName?: string;
  /** ARN of the ACM certificate of `domainName`, in the stack's region (context `certificateArn`). */
  readonly certificateArn?: string;
}

interface RongCloudSettings {
  environment: Record<string, string>;
  secret?: secretsmanager.ISecret;
}

/** The relay's stream event source: retries (with bisection) for about a day, then the failure queue. */
export const RELAY_STREAM = { batchSize: 100, retryAttempts: 100, maxRecordAgeHours: 24 } as const;

/** Default-stage throttling (requests per second, burst). */
export const THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/** What the operational alarms watch and when they fire (README "Operating" explains each). */
export const ALARMS = {
  /** HTTP API: 5xx answers as a percentage of requests over one 5-minute period, ... */
  api5xxPercent: 1,
  /** ... evaluated only when the period had at least this many requests (below: 0 %). */
  api5xxMinRequests: 20,
  /** Lambda throttles, summed over a chunk of functions per 5 minutes (≥ 1 fires). */
  throttlesPerChunk: 10,
  /** Notifier invocation errors: ≥ 1 in `datapoints` of `periods` 5-minute periods. */
  notifierErrors: { periods: 3, datapoints: 2 },
  /** Relay stream IteratorAge Maximum above this for `minutes` consecutive minutes. */
  relayIteratorAge: { ms: 60_000, minutes: 5 },
} as const;

/** The custom metrics the service emits (EMF, lib/metrics.ts): namespace and the dimension on all. */
export const SERVICE_METRICS = { namespace: 'SealTalkGroup', service: 'sealtalk-group' } as const;

/** The function groups of the dashboard and of the throttle alarms; together, every function. */
export const FUNCTION_GROUPS: readonly { readonly id: string; readonly title: string; readonly functions: readonly string[] }[] = [
  { id: 'Api', title: 'HTTP API functions', functions: httpFunctions() },
  { id: 'Events', title: 'event pipeline (relay, consumers)', functions: [OUTBOX_RELAY_HANDLER, ...consumers.map((c) => c.handler)] },
  { id: 'Jobs', title: 'scheduled work (jobs, queue workers)', functions: [...schedules.map((j) => j.handler), ...workQueues.map((q) => q.handler)] },
];

const OPERATING = 'README "Operating"';
const FIVE_MINUTES = Duration.minutes(5);

/** A context/prop value as trimmed text; absent or blank → undefined. */
const text = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
};

const list = (value: unknown): string[] | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const trimmed = items.map((s) => s.trim()).filter((s) => s !== '');
  return trimmed.length > 0 ? trimmed : undefined;
};

const pascal = (text: string): string =>
  text
    .split(/[^0-9A-Za-z]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

const attributeType = (name: string): dynamodb.AttributeType => {
  const type = tableDefinition.AttributeDefinitions.find((a) => a.AttributeName === name)?.AttributeType;
  if (type !== 'S') throw new Error(`lib/store/table.ts: unsupported type ${String(type)} of key attribute ${name}`);
  return dynamodb.AttributeType.STRING;
};

const keyOf = (
  schema: readonly { readonly AttributeName: string; readonly KeyType: string }[],
  keyType: 'HASH' | 'RANGE',
): dynamodb.Attribute | undefined => {
  const name = schema.find((k) => k.KeyType === keyType)?.AttributeName;
  return name === undefined ? undefined : { name, type: attributeType(name) };
};

/** 'write' beats 'read': a function gets the most privileged access among the routes it serves. */
const widest = (accesses: readonly TableAccess[]): TableAccess => (accesses.includes('write') ? 'write' : 'read');

/** `items` in consecutive chunks of at most `size`, as even as possible (31 by 10 → 8, 8, 8, 7). */
const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const count = Math.ceil(items.length / size);
  const out: T[][] = [];
  for (let i = 0, start = 0; i < count; i++) {
    const length = Math.ceil((items.length - start) / (count - i));
    out.push(items.slice(start, start + length));
    start += length;
  }
  return out;
};

export class GroupServiceStack extends Stack {
  readonly stage: Stage;
  readonly table: dynamodb.Table;
  readonly bus: events.EventBus;
  readonly api: apigwv2.HttpApi;
  /** By function file name (`functionOf(route)`). */
  readonly functions: ReadonlyMap<string, GroupFunction>;
  readonly userPool?: cognito.UserPool;
  readonly dashboard: cloudwatch.Dashboard;
  /** The topic every alarm notifies (imported or created), when configured. */
  readonly alarmTopic?: sns.ITopic;
  /** Every dead-letter queue, by construct id (`NotifierDeadLetters`, ...). */
  readonly deadLetterQueues = new Map<string, sqs.Queue>();
  /** The source queue of each SQS-fed function (queued consumers, work queue workers), by function name. */
  private readonly sourceQueues = new Map<string, sqs.Queue>();
  private logLevel: LogLevel = 'info';

  constructor(scope: Construct, id: string, props: GroupServiceStackProps = {}) {
    super(scope, id, props);
    const context = (key: string): unknown => this.node.tryGetContext(key);

    const stage = props.stage ?? (context('stage') as string | undefined) ?? 'dev';
    if (!(STAGES as readonly string[]).includes(stage)) {
      throw new Error(`stage must be one of ${STAGES.join(', ')}, got '${stage}'`);
    }
    this.stage = stage as Stage;
    const prod = this.stage === 'prod';
    const removalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const logLevel = props.logLevel ?? text(context('logLevel')) ?? 'info';
    if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
      throw new Error(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
    }
    this.logLevel = logLevel as LogLevel;

    // The single table, derived from lib/store/table.ts.
    const partitionKey = keyOf(tableDefinition.KeySchema, 'HASH');
    if (!partitionKey) throw new Error('lib/store/table.ts: the table has no HASH key');
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey,
      sortKey: keyOf(tableDefinition.KeySchema, 'RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The outbox relay reads new items from the stream.
      stream: dynamodb.StreamViewType[tableDefinition.StreamSpecification.StreamViewType],
      deletionProtection: prod,
      removalPolicy,
    });
    for (const index of tableDefinition.GlobalSecondaryIndexes) {
      const indexKey = keyOf(index.KeySchema, 'HASH');
      if (!indexKey || index.Projection.ProjectionType !== 'ALL') {
        throw new Error(`lib/store/table.ts: index ${index.IndexName} needs a HASH key and ALL projection`);
      }
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: indexKey,
        sortKey: keyOf(index.KeySchema, 'RANGE'),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // Domain events (the relay and the notifier arrive in later issues).
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `sealtalk-group-${this.stage}` });

    // Who may call: the given issuer/audience, or a Cognito user pool of our own.
    const issuer = props.jwtIssuer ?? list(context('jwtIssuer'))?.[0];
    let audience = props.jwtAudience ? [...props.jwtAudience] : list(context('jwtAudience'));
    if ((issuer === undefined) !== (audience === undefined)) {
      throw new Error('give both jwtIssuer and jwtAudience, or neither (then the stack creates a Cognito user pool)');
    }
    let jwtIssuer = issuer;
    let userPoolClient: cognito.UserPoolClient | undefined;
    if (jwtIssuer === undefined || audience === undefined) {
      // The profile claims lib/http/caller.ts reads: standard `name`, `picture`, `phone_number`,
      // `gender`; custom `st_account` and `group_verify` (0 or 1), which Cognito issues in ID tokens
      // as `custom:st_account` / `custom:group_verify` (caller.ts accepts both spellings). Clients
      // send the ID token: only it carries these claims, and its `aud` is the app client id the
      // authorizer checks. (An access token passes too, by its `client_id`, but carries `sub` only:
      // requests work, the profile is never updated from it.)
      this.userPool = new cognito.UserPool(this, 'UserPool', {
        userPoolName: `sealtalk-group-${this.stage}`,
        selfSignUpEnabled: false,
        signInAliases: { username: true },
        // The standard attributes (name, picture, phone_number, gender) exist in every pool, mutable
        // and optional: they are deliberately not listed as `standardAttributes`. That would add
        // schema entries without a data type, which Cognito rejects on later updates of the pool
        // ("Invalid AttributeDataType input": aws/aws-cdk#8585, aws-amplify/amplify-backend#3299).
        // The app client below makes them readable (so in the ID token) and writable.
        customAttributes: {
          // Mutable: an immutable custom attribute can only be set when the user is created.
          st_account: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: true }),
          group_verify: new cognito.NumberAttribute({ min: 0, max: 1, mutable: true }),
        },
        deletionProtection: prod,
        removalPolicy,
      });
      const profileAttributes = new cognito.ClientAttributes()
        .withStandardAttributes({ fullname: true, profilePicture: true, phoneNumber: true, gender: true })
        .withCustomAttributes('st_account', 'group_verify');
      userPoolClient = this.userPool.addClient('AppClient', {
        // SRP for apps; admin password auth (IAM-signed, so operators only) for getting a token
        // from the CLI (README, "Deploy").
        authFlows: { userSrp: true, adminUserPassword: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
        // The ID token carries exactly the readable attributes; users may update their own profile.
        readAttributes: profileAttributes.withStandardAttributes({ phoneNumberVerified: true }),
        writeAttributes: profileAttributes,
      });
      jwtIssuer = this.userPool.userPoolProviderUrl;
      audience = [userPoolClient.userPoolClientId];
    }

    const corsOrigins = props.corsOrigins ? [...props.corsOrigins] : list(context('corsOrigins'));
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: `sealtalk-group-${this.stage}`,
      defaultAuthorizer: new HttpJwtAuthorizer('Jwt', jwtIssuer, { jwtAudience: audience }),
      corsPreflight: corsOrigins && {
        allowOrigins: corsOrigins,
        allowHeaders: ['authorization', 'content-type'],
        allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST, apigwv2.CorsHttpMethod.DELETE],
      },
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    const apiStage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: THROTTLE,
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });

    // One function per distinct function file, one route per route table entry.
    const routesByFunction = new Map<string, Route[]>();
    for (const route of routes) {
      const name = functionOf(route);
      routesByFunction.set(name, [...(routesByFunction.get(name) ?? []), route]);
    }
    const functions = new Map<string, GroupFunction>();
    for (const [name, served] of routesByFunction) {
      const fn = this.groupFunction(pascal(name), {
        name,
        distDir: props.functionsDir,
        logRemovalPolicy: removalPolicy,
      });
      fn.bindTable(this.table, widest(served.map((r) => r.table)));
      functions.set(name, fn);
      const integration = new HttpLambdaIntegration(`${pascal(name)}Integration`, fn);
      for (const route of served) {
        new apigwv2.HttpRoute(this.api, pascal(routeKey(route)), {
          httpApi: this.api,
          routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
          integration,
        });
      }
    }

    // The outbox relay: outbox inserts on the table's stream (a filter, not code that skips) →
    // PutEvents on the bus. Records of one group share a partition, so a shard, so their order.
    const relayFailures = this.deadLetterQueue('OutboxRelayFailures', removalPolicy);
    const relay = this.groupFunction(pascal(OUTBOX_RELAY_HANDLER), {
      name: OUTBOX_RELAY_HANDLER,
      distDir: props.functionsDir,
      logRemovalPolicy: removalPolicy,
      environment: { EVENT_BUS_NAME: this.bus.eventBusName },
    });
    this.bus.grantPutEventsTo(relay);
    relay.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: RELAY_STREAM.batchSize,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: RELAY_STREAM.retryAttempts,
        maxRecordAge: Duration.hours(RELAY_STREAM.maxRecordAgeHours),
        onFailure: new SqsDlq(relayFailures),
        filters: [lambda.FilterCriteria.filter(OUTBOX_STREAM_FILTER as unknown as Record<string, unknown>)],
      }),
    );
    functions.set(OUTBOX_RELAY_HANDLER, relay);

    // Event consumers: one rule on the bus per consumer, its pattern from lib/events.
    const rongCloud = this.rongCloud(props);
    for (const consumer of consumers) {
      const fn =
        consumer.delivery === 'sqs'
          ? this.queuedConsumer(consumer, props, removalPolicy, rongCloud)
          : this.invokedConsumer(consumer, props, removalPolicy);
      functions.set(consumer.handler, fn);
    }

    // Work queues (regular clear's member chunks) and their workers.
    const queues = new Map<string, sqs.Queue>();
    for (const work of workQueues) {
      const { fn, queue } = this.workQueue(work, props, removalPolicy, rongCloud);
      functions.set(work.handler, fn);
      queues.set(work.name, queue);
    }

    // Scheduled jobs (regular clear, janitor): EventBridge Scheduler → the function, with retries
    // and one alarmed dead-letter queue for invocations that could not be delivered or kept failing.
    const jobFailures = this.deadLetterQueue('ScheduledJobFailures', removalPolicy);
    for (const job of schedules) functions.set(job.handler, this.scheduledJob(job, props, removalPolicy, jobFailures, queues));

    // The published event contract: a JSON Schema per event in a registry of our own.
    const registry = new eventschemas.CfnRegistry(this, 'EventSchemas', {
      registryName: `${SCHEMA_REGISTRY_NAME}.${this.stage}`,
      description: 'Domain events of the SealTalk group service (source sealtalk.group)',
    });
    for (const type of eventTypes) {
      new eventschemas.CfnSchema(this, `${type}Schema`, {
        registryName: registry.attrRegistryName,
        schemaName: `sealtalk.group@${type}`,
        type: 'JSONSchemaDraft4',
        content: JSON.stringify(eventJsonSchema(type)),
      });
    }
    this.functions = functions;

    // Operations: the alarms beyond the dead-letter queues', the dashboard, where alarms notify.
    this.operationalAlarms(apiStage, functions);
    this.dashboard = this.buildDashboard(apiStage, functions);
    this.alarmTopic = this.notifyAlarms(props);
    const customDomain = this.customDomain(props, apiStage);

    new CfnOutput(this, 'ApiUrl', { value: apiStage.url });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    if (this.userPool && userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: userPoolClient.userPoolClientId });
    }
    for (const [id, queue] of this.deadLetterQueues) {
      new CfnOutput(this, `${id}Name`, { value: queue.queueName, description: `dead-letter queue ${id} (${OPERATING})` });
    }
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
    if (this.alarmTopic instanceof sns.Topic) new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    if (customDomain) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: customDomain.regionalDomainName,
        description: `CNAME ${customDomain.name} to this (or a Route 53 alias in zone CustomDomainHostedZoneId)`,
      });
      new CfnOutput(this, 'CustomDomainHostedZoneId', { value: customDomain.regionalHostedZoneId });
    }
  }

  /** Every function of the stack is made here: the shared settings of the stack (log level) applied. */
  private groupFunction(id: string, props: GroupFunctionProps): GroupFunction {
    return new GroupFunction(this, id, { logLevel: this.logLevel, ...props });
  }

  /** An alarm named `sealtalk-group-<stage>-<id>` (construct id `<id>Alarm`). */
  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, `${id}Alarm`, { alarmName: `sealtalk-group-${this.stage}-${id}`, ...props });
  }

  /** A dead-letter queue kept 14 days, with an alarm as soon as anything is in it. */
  private deadLetterQueue(id: string, removalPolicy: RemovalPolicy): sqs.Queue {
    const queue = new sqs.Queue(this, id, { retentionPeriod: Duration.days(14), enforceSSL: true, removalPolicy });
    this.deadLetterQueues.set(id, queue);
    this.alarm(id, {
      alarmDescription:
        `${id}: messages are waiting in a dead-letter queue: work that failed every retry and is not done. ` +
        `Read the messages and the logs of the function that failed, fix the cause, then redrive or resolve them (${OPERATING}).`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // SQS publishes a queue's metrics while it holds messages; no data means an empty, idle queue.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return queue;
  }

  /**
   * A consumer fed through SQS: rule → queue (EventBridge retries 24 h, then the DLQ) → function in
   * batches with partial failures, a concurrency cap, redelivery, and the DLQ after repeated
   * failure. The notifier also sends events it must not retry straight to that DLQ.
   */
  private queuedConsumer(
    consumer: EventConsumer,
    props: GroupServiceStackProps,
    removalPolicy: RemovalPolicy,
    rongCloud: RongCloudSettings,
  ): GroupFunction {
    const id = pascal(consumer.handler);
    const deadLetters = this.deadLetterQueue(`${id}DeadLetters`, removalPolicy);
    const queue = new sqs.Queue(this, `${id}Queue`, {
      visibilityTimeout: Duration.seconds(NOTIFIER_QUEUE.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(4),
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: NOTIFIER_QUEUE.maxReceiveCount },
      removalPolicy,
    });
    const maxConcurrency = consumer.maxConcurrency ?? 2;
    const fn = this.groupFunction(id, {
      name: consumer.handler,
      distDir: props.functionsDir,
      logRemovalPolicy: removalPolicy,
      timeout: Duration.seconds(NOTIFIER_QUEUE.timeoutSeconds),
      environment: { NOTIFIER_DLQ_URL: deadLetters.queueUrl, NOTIFIER_RATE_SHARE: String(maxConcurrency), ...rongCloud.environment },
    }).bindTable(this.table, consumer.table);
    deadLetters.grantSendMessages(fn);
    rongCloud.secret?.grantRead(fn);
    this.sourceQueues.set(consumer.handler, queue);
    fn.addEventSource(
      new SqsEventSource(queue, { batchSize: NOTIFIER_QUEUE.batchSize, reportBatchItemFailures: true, maxConcurrency }),
    );
    new events.Rule(this, `${id}Rule`, {
      eventBus: this.bus,
      eventPattern: this.cdkPattern(consumer),
      targets: [new targets.SqsQueue(queue, { deadLetterQueue: deadLetters, retryAttempts: 8, maxEventAge: Duration.hours(24) })],
    });
    return fn;
  }

  /**
   * A work queue and its worker: the producer sends messages, the function takes `batchSize` at a
   * time (partial failures), at most `maxConcurrency` at once; a failing message is retried after
   * the visibility timeout, then dead-lettered (alarmed).
   */
  private workQueue(
    work: WorkQueue,
    props: GroupServiceStackProps,
    removalPolicy: RemovalPolicy,
    rongCloud: RongCloudSettings,
  ): { fn: GroupFunction; queue: sqs.Queue } {
    const id = pascal(work.handler);
    const deadLetters = this.deadLetterQueue(`${id}DeadLetters`, removalPolicy);
    const queue = new sqs.Queue(this, `${pascal(work.name)}Queue`, {
      visibilityTimeout: Duration.seconds(work.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(4),
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: work.maxReceiveCount },
      removalPolicy,
    });
    const rate = this.node.tryGetContext('regularClearRate') as string | number | undefined;
    const fn = this.groupFunction(id, {
      name: work.handler,
      distDir: props.functionsDir,
      logRemovalPolicy: removalPolicy,
      timeout: Duration.seconds(work.timeoutSeconds),
      environment: {
        ...(work.rongCloud ? rongCloud.environment : {}),
        ...(work.rongCloud && rate !== undefined && rate !== '' ? { REGULAR_CLEAR_RATE: String(rate) } : {}),
      },
    }).bindTable(this.table, work.table);
    if (work.rongCloud) rongCloud.secret?.grantRead(fn);
    this.sourceQueues.set(work.handler, queue);
    fn.addEventSource(
      new SqsEventSource(queue, { batchSize: work.batchSize, reportBatchItemFailures: true, maxConcurrency: work.maxConcurrency }),
    );
    return { fn, queue };
  }

  /**
   * A scheduled job: an EventBridge Scheduler schedule invoking the function (asynchronously).
   * Undeliverable invocations are retried by the scheduler, failed ones by Lambda (twice), both
   * within `maxEventAgeSeconds`, then they land in `failures`.
   */
  private scheduledJob(
    job: ScheduledJob,
    props: GroupServiceStackProps,
    removalPolicy: RemovalPolicy,
    failures: sqs.Queue,
    queues: ReadonlyMap<string, sqs.Queue>,
  ): GroupFunction {
    const id = pascal(job.handler);
    const fn = this.groupFunction(id, {
      name: job.handler,
      distDir: props.functionsDir,
      logRemovalPolicy: removalPolicy,
      timeout: Duration.seconds(job.timeoutSeconds),
      deadLetterQueue: failures,
    }).bindTable(this.table, job.table);
    fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.seconds(job.maxEventAgeSeconds) });
    if (job.sendsTo !== undefined) {
      const target = workQueues.find((q) => q.name === job.sendsTo);
      const queue = queues.get(job.sendsTo);
      if (!target || !queue) throw new Error(`schedule ${job.name} sends to unknown work queue ${job.sendsTo}`);
      queue.grantSendMessages(fn);
      fn.addEnvironment(target.urlEnv, queue.queueUrl);
    }
    new scheduler.Schedule(this, `${pascal(job.name)}Schedule`, {
      schedule: scheduler.ScheduleExpression.expression(job.expression),
      description: `sealtalk-group ${job.name}: ${job.description}`,
      target: new schedulerTargets.LambdaInvoke(fn, {
        input: scheduler.ScheduleTargetInput.fromObject({ job: job.name }),
        retryAttempts: 5,
        maxEventAge: Duration.seconds(job.maxEventAgeSeconds),
        deadLetterQueue: failures,
      }),
    });
    return fn;
  }

  /** A consumer invoked asynchronously: EventBridge retries, Lambda retries, then its DLQ. */
  private invokedConsumer(consumer: EventConsumer, props: GroupServiceStackProps, removalPolicy: RemovalPolicy): GroupFunction {
    const id = pascal(consumer.handler);
    const deadLetters = this.deadLetterQueue(`${id}DeadLetters`, removalPolicy);
    const fn = this.groupFunction(id, {
      name: consumer.handler,
      distDir: props.functionsDir,
      logRemovalPolicy: removalPolicy,
      deadLetterQueue: deadLetters,
      retryAttempts: 2,
    }).bindTable(this.table, consumer.table);
    new events.Rule(this, `${id}Rule`, {
      eventBus: this.bus,
      eventPattern: this.cdkPattern(consumer),
      targets: [new targets.LambdaFunction(fn, { deadLetterQueue: deadLetters, retryAttempts: 8, maxEventAge: Duration.hours(24) })],
    });
    return fn;
  }

  /**
   * The alarms beyond the dead-letter queues': API 5xx rate, Lambda throttles, notifier errors, the
   * relay's iterator age, and the age of the oldest message in each SQS-fed function's queue. Every
   * one treats missing data as not breaching, deliberately: each metric is only published when there
   * is traffic (API requests, invocations, stream records, queue activity), so no data means nothing
   * happened, not that something broke; the "stuck" cases show in data that does arrive (errors,
   * iterator age of retried batches, queue age, dead letters).
   */
  private operationalAlarms(apiStage: apigwv2.HttpStage, functions: ReadonlyMap<string, GroupFunction>): void {
    const fn = (name: string): GroupFunction => {
      const found = functions.get(name);
      if (!found) throw new Error(`the stack has no function ${name}`);
      return found;
    };

    // HTTP API 5xx rate: AWS/ApiGateway `5xx` / `Count` of the $default stage (dimensions ApiId,
    // Stage), in percent, once the period had enough requests to mean something.
    const { api5xxPercent, api5xxMinRequests } = ALARMS;
    this.alarm('Api5xxRate', {
      alarmDescription:
        `More than ${api5xxPercent} % of the HTTP API's requests were answered 5xx over 5 minutes (with at least ` +
        `${api5xxMinRequests} requests). Nothing a client sends should produce a 5xx: it is a bug, a timeout, a throttled ` +
        `function or DynamoDB failing. Find the route on the dashboard (Requests by route and status), then the ` +
        `function's log lines with level "error" (each carries the request id) (${OPERATING}).`,
      metric: new cloudwatch.MathExpression({
        expression: `IF(requests >= ${api5xxMinRequests}, 100 * FILL(errors, 0) / requests, 0)`,
        usingMetrics: {
          requests: apiStage.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
          errors: apiStage.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        },
        period: FIVE_MINUTES,
        label: 'API 5xx (% of requests)',
      }),
      threshold: api5xxPercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Lambda throttles. An alarm's metric math may use at most 10 metrics (a hard CloudWatch limit)
    // and the function names are generated, so neither one alarm over every function nor a SEARCH
    // (not allowed in alarms) works; one alarm per function would be ~40 alarms that all fire at
    // once, since throttling comes from the account's concurrency running out, not one function.
    // So: per function group, the sum over chunks of at most 10 functions (the dashboard shows
    // which function).
    for (const group of FUNCTION_GROUPS) {
      const parts = chunks(group.functions, ALARMS.throttlesPerChunk);
      parts.forEach((names, i) => {
        const id = `${group.id}Throttles${parts.length > 1 ? String(i + 1) : ''}`;
        this.alarm(id, {
          alarmDescription:
            `Lambda throttled invocations of ${group.title} (${names.join(', ')}) within 5 minutes: the account's ` +
            `concurrency in this region ran out. Throttled API calls fail with 5xx; events and jobs are retried, later. ` +
            `Check ConcurrentExecutions and the account's concurrency quota, and which function is surging (dashboard); ` +
            `raise the quota or cap the culprit (${OPERATING}).`,
          metric: new cloudwatch.MathExpression({
            expression: names.map((_, j) => `FILL(t${j}, 0)`).join(' + '),
            usingMetrics: Object.fromEntries(
              names.map((name, j) => [`t${j}`, fn(name).metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' })]),
            ),
            period: FIVE_MINUTES,
            label: `throttles (${group.id}${parts.length > 1 ? ` ${i + 1}` : ''})`,
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      });
    }

    // Notifier invocation errors: a whole batch failed (crash, timeout, unreadable secret). Events
    // that fail alone are reported as partial failures, retried and dead-lettered: not counted here.
    const { periods, datapoints } = ALARMS.notifierErrors;
    this.alarm('NotifierErrors', {
      alarmDescription:
        `The notifier failed whole invocations in ${datapoints} of the last ${periods} 5-minute periods (crash, ` +
        `timeout, RongCloud secret unreadable). Its batches are redelivered, so IM is behind and events head for ` +
        `NotifierDeadLetters. Read the notifier's log lines with level "error" and fix the cause (${OPERATING}).`,
      metric: fn('notifier').metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: periods,
      datapointsToAlarm: datapoints,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // The relay's stream iterator age: how late domain events reach the bus.
    const { ms, minutes } = ALARMS.relayIteratorAge;
    this.alarm('RelayIteratorAge', {
      alarmDescription:
        `The outbox relay's oldest stream record was over ${ms / 1000} s old for ${minutes} minutes: domain events reach ` +
        `the bus, IM and other consumers late. The relay keeps failing (its log lines with level "error", ` +
        `OutboxRelayFailures) or is throttled; records older than ${RELAY_STREAM.maxRecordAgeHours} h go to ` +
        `OutboxRelayFailures (${OPERATING}).`,
      metric: fn(OUTBOX_RELAY_HANDLER).metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: ms,
      evaluationPeriods: minutes,
      datapointsToAlarm: minutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // The oldest message of each SQS-fed function's queue. Above what retries alone explain, the
    // consumer is not keeping up (or not consuming at all).
    for (const consumer of consumers.filter((c) => c.delivery === 'sqs')) {
      const queue = this.sourceQueues.get(consumer.handler);
      if (!queue) throw new Error(`no queue for ${consumer.handler}`);
      // A failing message is received maxReceiveCount times, a visibility timeout apart, then
      // dead-lettered: older than that, the backlog is not draining.
      const limit = NOTIFIER_QUEUE.visibilityTimeoutSeconds * NOTIFIER_QUEUE.maxReceiveCount;
      this.alarm(`${pascal(consumer.handler)}QueueAge`, {
        alarmDescription:
          `An event has waited over ${limit / 60} minutes in the ${consumer.handler} queue, longer than a failing one is ` +
          `retried before it is dead-lettered: ${consumer.handler} is not keeping up or not consuming (errors, ` +
          `throttles, RongCloud slow or failing), so IM is behind. See its errors and logs on the dashboard (${OPERATING}).`,
        metric: queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        threshold: limit,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const work of workQueues) {
      const queue = this.sourceQueues.get(work.handler);
      const producer = schedules.find((j) => j.sendsTo === work.name);
      if (!queue || !producer) throw new Error(`work queue ${work.name} has no queue or no scheduled producer`);
      // The producer runs once a period: a chunk older than that means one pass's work is not done
      // when the next pass comes.
      const limit = producer.everyMs / 1000;
      this.alarm(`${pascal(work.name)}QueueAge`, {
        alarmDescription:
          `A message has waited over ${limit / 60} minutes (the ${producer.name} period) in the ${work.name} queue: ` +
          `${work.handler} is not draining it (errors, throttles, RongCloud failing or rate-limited), so that work is late. ` +
          `See ${work.handler}'s logs and its dead-letter queue (${OPERATING}).`,
        metric: queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        threshold: limit,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /**
   * The dashboard `sealtalk-group-<stage>`: alarm states, the API, the service's own (EMF) metrics,
   * Lambda errors and throttles per function group, queues, the event pipeline, IM calls. Service
   * metrics whose dimensions vary (route, status, event type, IM path, outcome) are SEARCH
   * expressions, so a new route or event type shows up without changing the dashboard.
   */
  private buildDashboard(apiStage: apigwv2.HttpStage, functions: ReadonlyMap<string, GroupFunction>): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `sealtalk-group-${this.stage}`,
      defaultInterval: Duration.hours(3),
    });
    const { namespace, service } = SERVICE_METRICS;
    const search = (dimensions: readonly string[], metricName: string, statistic: string, label: string): cloudwatch.MathExpression =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${namespace},${['Service', ...dimensions].join(',')}} MetricName="${metricName}" Service="${service}"', '${statistic}', 300)`,
        usingMetrics: {},
        period: FIVE_MINUTES,
        label,
      });
    const dim = (name: string): string => `\${PROP('Dim.${name}')}`;
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, period: FIVE_MINUTES, leftYAxis: { min: 0 }, ...extra });
    const alarms = this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm);

    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# SealTalk group service (${this.stage})\n` +
          `Alarms and what to do about each: README "Operating". Service metrics: namespace \`${namespace}\`, ` +
          `dimension \`Service\`=\`${service}\`.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 4 }));

    // The HTTP API ($default stage).
    dashboard.addWidgets(
      graph('API requests', [apiStage.metricCount({ statistic: 'Sum', label: 'requests' })]),
      graph('API 4xx / 5xx', [
        apiStage.metricClientError({ statistic: 'Sum', label: '4xx' }),
        apiStage.metricServerError({ statistic: 'Sum', label: '5xx', color: cloudwatch.Color.RED }),
      ]),
      graph('API latency (ms)', [
        apiStage.metricLatency({ statistic: 'p50', label: 'p50' }),
        apiStage.metricLatency({ statistic: 'p95', label: 'p95' }),
        apiStage.metricIntegrationLatency({ statistic: 'p95', label: 'integration p95' }),
      ]),
    );
    // Per route, from the service's own metrics.
    dashboard.addWidgets(
      graph('Requests by route and status', [search(['Route', 'Status'], 'Requests', 'Sum', `${dim('Route')} ${dim('Status')}`)], { width: 12 }),
      graph('Request latency p95 by route (ms)', [search(['Route'], 'RequestLatency', 'p95', dim('Route'))], { width: 12 }),
    );

    // Lambda errors and throttles, one graph per function group, one line per function.
    const perFunction = (names: readonly string[], metric: (fn: GroupFunction) => cloudwatch.Metric): cloudwatch.IMetric[] =>
      names.map((name) => {
        const fn = functions.get(name);
        if (!fn) throw new Error(`the stack has no function ${name}`);
        return metric(fn).with({ label: name });
      });
    dashboard.addWidgets(
      ...FUNCTION_GROUPS.map((group) =>
        graph(`Errors: ${group.title}`, perFunction(group.functions, (fn) => fn.metricErrors({ statistic: 'Sum' }))),
      ),
    );
    dashboard.addWidgets(
      ...FUNCTION_GROUPS.map((group) =>
        graph(`Throttles: ${group.title}`, perFunction(group.functions, (fn) => fn.metricThrottles({ statistic: 'Sum' }))),
      ),
    );

    // Queues: every dead-letter queue's depth; how old the oldest waiting message of each source queue is.
    dashboard.addWidgets(
      graph(
        'Dead-letter queues (messages)',
        [...this.deadLetterQueues].map(([id, queue]) => queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: id })),
        { width: 12 },
      ),
      graph(
        'Oldest message age (s)',
        [...this.sourceQueues].map(([name, queue]) => queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: name })),
        { width: 12 },
      ),
    );

    // The event pipeline: outbox → stream → relay → bus → consumers.
    const relay = functions.get(OUTBOX_RELAY_HANDLER);
    if (!relay) throw new Error(`the stack has no function ${OUTBOX_RELAY_HANDLER}`);
    const relayLag = (statistic: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace, metricName: 'RelayLag', dimensionsMap: { Service: service }, statistic, label, period: FIVE_MINUTES });
    dashboard.addWidgets(
      graph('Outbox relay: iterator age and lag (ms)', [
        relay.metric('IteratorAge', { statistic: 'Maximum', label: 'stream iterator age (max)' }),
        relayLag('Maximum', 'commit → bus lag (max)'),
        relayLag('p95', 'commit → bus lag (p95)'),
      ]),
      graph('Domain events by type', [search(['EventType'], 'DomainEvents', 'Sum', dim('EventType'))]),
      graph('Domain events failed by type', [search(['EventType'], 'DomainEventsFailed', 'Sum', dim('EventType'))]),
    );

    // RongCloud (IM) calls.
    dashboard.addWidgets(
      graph('IM calls by path and outcome', [search(['Path', 'Outcome'], 'ImCalls', 'Sum', `${dim('Path')} ${dim('Outcome')}`)], { width: 12 }),
      graph('IM call latency p95 by path (ms)', [search(['Path'], 'ImCallLatency', 'p95', dim('Path'))], { width: 12 }),
    );
    return dashboard;
  }

  /**
   * Where alarms notify: an imported topic (`alarmTopicArn`) or one created with email
   * subscriptions (`alarmEmail`). Every alarm of the stack gets it as alarm and OK action. With
   * neither, no topic and a synth warning.
   */
  private notifyAlarms(props: GroupServiceStackProps): sns.ITopic | undefined {
    const arn = props.alarmTopicArn ?? text(this.node.tryGetContext('alarmTopicArn'));
    const emails = props.alarmEmail ? [...props.alarmEmail] : list(this.node.tryGetContext('alarmEmail'));
    if (arn !== undefined && emails !== undefined) {
      throw new Error('give alarmTopicArn or alarmEmail, not both (subscribe the addresses to your own topic)');
    }
    let topic: sns.ITopic;
    if (arn !== undefined) {
      if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(arn)) {
        throw new Error(`alarmTopicArn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got '${arn}'`);
      }
      topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', arn);
    } else if (emails !== undefined) {
      const bad = emails.filter((e) => !/^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/.test(e));
      if (bad.length > 0) throw new Error(`alarmEmail: not an email address: ${bad.join(', ')}`);
      const created = new sns.Topic(this, 'AlarmTopic', {
        topicName: `sealtalk-group-${this.stage}-alarms`,
        displayName: `SealTalk group ${this.stage} alarms`,
      });
      for (const email of emails) created.addSubscription(new snsSubscriptions.EmailSubscription(email));
      topic = created;
    } else {
      Annotations.of(this).addWarningV2(
        'sealtalk-group:no-alarm-topic',
        'no alarmTopicArn or alarmEmail: the alarms notify nobody (they only change state, see the dashboard)',
      );
      return undefined;
    }
    const action = new cloudwatchActions.SnsAction(topic);
    for (const construct of this.node.findAll()) {
      if (construct instanceof cloudwatch.Alarm) {
        construct.addAlarmAction(action);
        construct.addOkAction(action);
      }
    }
    return topic;
  }

  /**
   * The optional custom domain (`domainName` + `certificateArn`): a regional API Gateway domain
   * mapped to the $default stage. Point a CNAME (or a Route 53 alias) at its regional domain name.
   */
  private customDomain(props: GroupServiceStackProps, apiStage: apigwv2.HttpStage): apigwv2.DomainName | undefined {
    const name = props.domainName ?? text(this.node.tryGetContext('domainName'));
    const arn = props.certificateArn ?? text(this.node.tryGetContext('certificateArn'));
    if (name === undefined && arn === undefined) return undefined;
    if (name === undefined || arn === undefined) {
      throw new Error("give both domainName and certificateArn (an ACM certificate for it in the stack's region), or neither");
    }
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(name)) {
      throw new Error(`domainName must be a DNS name such as api.example.com, got '${name}'`);
    }
    const certificateRegion = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]+$/.exec(arn)?.[1];
    if (certificateRegion === undefined) {
      throw new Error(`certificateArn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>), got '${arn}'`);
    }
    if (!Token.isUnresolved(this.region) && certificateRegion !== this.region) {
      throw new Error(`certificateArn is in ${certificateRegion}, but a regional API domain needs a certificate in the stack's region ${this.region}`);
    }
    const domain = new apigwv2.DomainName(this, 'CustomDomain', {
      domainName: name,
      certificate: acm.Certificate.fromCertificateArn(this, 'CustomDomainCertificate', arn),
      endpointType: apigwv2.EndpointType.REGIONAL,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    new apigwv2.ApiMapping(this, 'CustomDomainMapping', { api: this.api, domainName: domain, stage: apiStage });
    return domain;
  }

  private cdkPattern(consumer: EventConsumer): events.EventPattern {
    const pattern = eventPatternOf(consumer);
    return { source: pattern.source, detailType: pattern['detail-type'] };
  }

  /**
   * RongCloud settings of the notifier (props, else context): its environment and the app secret's
   * Secrets Manager secret (imported by ARN, or created empty to be filled in). Without an app key,
   * none: the notifier then logs each IM call instead of sending it.
   */
  private rongCloud(props: GroupServiceStackProps): RongCloudSettings {
    const setting = (key: 'rongcloudAppKey' | 'rongcloudApiUrl' | 'rongcloudSecretArn' | 'rongcloudTimestampUnit'): string | undefined => {
      const value = props[key] ?? (this.node.tryGetContext(key) as string | undefined);
      return value === undefined || value === '' ? undefined : String(value);
    };
    const appKey = setting('rongcloudAppKey');
    if (!appKey) return { environment: {} };
    const arn = setting('rongcloudSecretArn');
    const secret = arn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'RongCloudAppSecret', arn)
      : new secretsmanager.Secret(this, 'RongCloudAppSecret', {
          description: 'RongCloud app secret of the SealTalk group service: put the secret string here',
          removalPolicy: this.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        });
    const url = setting('rongcloudApiUrl');
    const unit = setting('rongcloudTimestampUnit');
    return {
      secret,
      environment: {
        RONGCLOUD_APP_KEY: appKey,
        RONGCLOUD_APP_SECRET_ARN: secret.secretArn,
        ...(url ? { RONGCLOUD_API_URL: url } : {}),
        ...(unit ? { RONGCLOUD_TIMESTAMP_UNIT: unit } : {}),
      },
    };
  }
}
