import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { consumers, functionOf, NOT_IMPLEMENTED_HANDLER, routeKey, routes } from '#lib/routes.ts';
import type { Route, TableAccess } from '#lib/routes.ts';
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
}

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
      // The 501 fallback never touches the table: it gets no access at all.
      if (name !== NOT_IMPLEMENTED_HANDLER) fn.bindTable(this.table, widest(served.map((r) => r.table)));
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

    // Event consumers: a rule on the bus per consumer. Delivery is retried by EventBridge, a failed
    // invocation by Lambda; what still fails lands in the consumer's dead-letter queue.
    for (const consumer of consumers) {
      const id = pascal(consumer.handler);
      const deadLetters = new sqs.Queue(this, `${id}DeadLetters`, {
        retentionPeriod: Duration.days(14),
        enforceSSL: true,
        removalPolicy,
      });
      const fn = new GroupFunction(this, id, {
        name: consumer.handler,
        distDir: props.functionsDir,
        logRemovalPolicy: removalPolicy,
        deadLetterQueue: deadLetters,
        retryAttempts: 2,
      }).bindTable(this.table, consumer.table);
      functions.set(consumer.handler, fn);
      new events.Rule(this, `${id}Rule`, {
        eventBus: this.bus,
        eventPattern: { source: [consumer.source], detailType: [consumer.detailType] },
        targets: [
          new targets.LambdaFunction(fn, { deadLetterQueue: deadLetters, retryAttempts: 8, maxEventAge: Duration.hours(24) }),
        ],
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
}
