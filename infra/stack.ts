import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { eventTypes } from '#lib/events/index.ts';
import { eventJsonSchema, SCHEMA_REGISTRY_NAME } from '#lib/events/json-schema.ts';
import { OUTBOX_STREAM_FILTER } from '#lib/events/outbox.ts';
import { consumers, eventPatternOf, functionOf, NOTIFIER_QUEUE, OUTBOX_RELAY_HANDLER, routeKey, routes, schedules, workQueues } from '#lib/routes.ts';
import type { EventConsumer, Route, ScheduledJob, TableAccess, WorkQueue } from '#lib/routes.ts';
import { TABLE, tableDefinition } from '#lib/store/table.ts';
import { GroupFunction } from './function.ts';

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
}

interface RongCloudSettings {
  environment: Record<string, string>;
  secret?: secretsmanager.ISecret;
}

/** The relay's stream event source: retries (with bisection) for about a day, then the failure queue. */
export const RELAY_STREAM = { batchSize: 100, retryAttempts: 100, maxRecordAgeHours: 24 } as const;

/** Default-stage throttling (requests per second, burst). */
export const THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

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

export class GroupServiceStack extends Stack {
  readonly stage: Stage;
  readonly table: dynamodb.Table;
  readonly bus: events.EventBus;
  readonly api: apigwv2.HttpApi;
  /** By function file name (`functionOf(route)`). */
  readonly functions: ReadonlyMap<string, GroupFunction>;
  readonly userPool?: cognito.UserPool;

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
      this.userPool = new cognito.UserPool(this, 'UserPool', {
        userPoolName: `sealtalk-group-${this.stage}`,
        selfSignUpEnabled: false,
        signInAliases: { username: true },
        deletionProtection: prod,
        removalPolicy,
      });
      userPoolClient = this.userPool.addClient('AppClient', {
        authFlows: { userSrp: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
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
      const fn = new GroupFunction(this, pascal(name), {
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
    const relay = new GroupFunction(this, pascal(OUTBOX_RELAY_HANDLER), {
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

    new CfnOutput(this, 'ApiUrl', { value: apiStage.url });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    if (this.userPool && userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: userPoolClient.userPoolClientId });
    }
  }

  /** A dead-letter queue kept 14 days, with an alarm as soon as anything is in it. */
  private deadLetterQueue(id: string, removalPolicy: RemovalPolicy): sqs.Queue {
    const queue = new sqs.Queue(this, id, { retentionPeriod: Duration.days(14), enforceSSL: true, removalPolicy });
    new cloudwatch.Alarm(this, `${id}Alarm`, {
      alarmDescription: `${id}: messages are waiting in a dead-letter queue (see the README, "Operating")`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
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
    const fn = new GroupFunction(this, id, {
      name: consumer.handler,
      distDir: props.functionsDir,
      logRemovalPolicy: removalPolicy,
      timeout: Duration.seconds(NOTIFIER_QUEUE.timeoutSeconds),
      environment: { NOTIFIER_DLQ_URL: deadLetters.queueUrl, NOTIFIER_RATE_SHARE: String(maxConcurrency), ...rongCloud.environment },
    }).bindTable(this.table, consumer.table);
    deadLetters.grantSendMessages(fn);
    rongCloud.secret?.grantRead(fn);
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
    const fn = new GroupFunction(this, id, {
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
    const fn = new GroupFunction(this, id, {
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
    const fn = new GroupFunction(this, id, {
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
