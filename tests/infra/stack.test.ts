import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { allFunctions, consumers, eventPatternOf, functionOf, httpFunctions, routeKey, routes, schedules, workQueues } from '#lib/routes.ts';
import { TABLE } from '#lib/store/table.ts';
import { tableDefinition } from '#lib/store/table-definition.ts';
import { PLACEHOLDER_CODE } from '#infra/function.ts';
import { GroupServiceStack, THROTTLE } from '#infra/stack.ts';
import { actionsOf, functionLogicalId, resourcesOfType, synthStack } from './helpers.ts';
import type { CfnResource, CfnTemplate, Synthesized } from './helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'infra-stack-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Built once per file: the default (dev, own Cognito) stack, pointed at a bundle directory that
// does not exist, and a prod stack configured through context the way `cdk deploy -c ...` does.
const dev = synthStack({ functionsDir: join(scratch, 'does-not-exist') });
const ISSUER = 'https://issuer.example.com/';
const prod = synthStack({}, {
  stage: 'prod',
  jwtIssuer: ISSUER,
  jwtAudience: 'app-a, app-b',
  corsOrigins: 'https://chat.example.com',
});

const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

const onlyResource = (s: Synthesized, type: string): CfnResource => {
  const found = resourcesOfType(s.json, type);
  expect(found, type).toHaveLength(1);
  return found[0]![1];
};

/** Logical id of the function behind an `AWS::ApiGatewayV2::Route`. */
const functionBehind = (s: Synthesized, route: CfnResource): string => {
  const target = route.Properties?.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
  const integration = s.json.Resources[target['Fn::Join'][1][1].Ref];
  const uri = integration?.Properties?.IntegrationUri as { 'Fn::GetAtt': [string, string] };
  return uri['Fn::GetAtt'][0];
};

const byKey = (s: Synthesized): Map<string, CfnResource> =>
  new Map(resourcesOfType(s.json, 'AWS::ApiGatewayV2::Route').map(([, r]) => [r.Properties?.RouteKey as string, r]));

describe('the group service stack', () => {
  it('creates exactly one function per distinct route handler, event consumer, queue worker and scheduled job, and no other function', () => {
    const functions = resourcesOfType(dev.json, 'AWS::Lambda::Function');
    expect(functions).toHaveLength(allFunctions().length);
    expect(functions.every(([, f]) => f.Properties?.Handler === 'index.handler')).toBe(true);
    expect(new Set(allFunctions().map((name) => functionLogicalId(dev, name)))).toEqual(new Set(functions.map(([id]) => id)));
  });

  it('routes every entry of the route table, and nothing else, with the JWT authorizer', () => {
    const authorizers = resourcesOfType(dev.json, 'AWS::ApiGatewayV2::Authorizer');
    expect(authorizers).toHaveLength(1);
    const authorizerId = authorizers[0]![0];
    const keys = byKey(dev);
    expect([...keys.keys()].sort()).toEqual(routes.map(routeKey).sort());
    for (const route of keys.values()) {
      expect(route.Properties).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    }
  });

  it('serves every route from the function of lib/routes.ts, one integration per function', () => {
    const keys = byKey(dev);
    for (const route of routes) {
      expect(functionBehind(dev, keys.get(routeKey(route))!), routeKey(route)).toBe(functionLogicalId(dev, functionOf(route)));
    }
    expect(resourcesOfType(dev.json, 'AWS::ApiGatewayV2::Integration')).toHaveLength(httpFunctions().length);
  });

  it('gives functions that serve only read routes no write permission on the table', () => {
    const readOnly = httpFunctions().filter((name) => routes.filter((r) => functionOf(r) === name).every((r) => r.table === 'read'));
    expect(readOnly).toContain('group-get');
    for (const name of readOnly) {
      const actions = actionsOf(dev, name);
      expect(actions, name).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem']));
      expect(actions.filter((a) => WRITE_ACTIONS.includes(a) || a === 'dynamodb:*' || a === '*'), name).toEqual([]);
    }
  });

  it('grants write access to every function that serves a write route', () => {
    const writers = httpFunctions().filter(
      (name) => routes.some((r) => functionOf(r) === name && r.table === 'write'),
    );
    expect(writers).toEqual(expect.arrayContaining(['group-create', 'group-rename']));
    for (const name of writers) {
      expect(actionsOf(dev, name), name).toEqual(
        expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem']),
      );
    }
  });

  it('grants no function Scan, PartiQL or stream reads', () => {
    for (const name of httpFunctions()) {
      const actions = actionsOf(dev, name);
      expect(actions.filter((a) => /Scan|PartiQL|GetRecords|GetShardIterator|DescribeStream|ListStreams|\*/.test(a)), name).toEqual([]);
    }
  });

  it('sets the shared runtime settings on every function and TABLE_NAME on those bound to the table', () => {
    const tableId = dev.stack.getLogicalId(dev.stack.table.node.defaultChild as never);
    dev.template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'Text', LogGroup: { Ref: Match.anyValue() } },
    });
    // 10 s for the HTTP functions; the notifier has time for RongCloud's retries and failover; the
    // queue workers and scheduled jobs have their own (lib/routes.ts).
    const timeouts = new Map<string, number>([
      ['notifier', 30],
      ...workQueues.map((q): [string, number] => [q.handler, q.timeoutSeconds]),
      ...schedules.map((j): [string, number] => [j.handler, j.timeoutSeconds]),
    ]);
    for (const name of allFunctions()) {
      expect(dev.json.Resources[functionLogicalId(dev, name)]?.Properties?.Timeout, name).toBe(timeouts.get(name) ?? 10);
    }
    for (const name of httpFunctions()) {
      const variables = dev.json.Resources[functionLogicalId(dev, name)]?.Properties?.Environment as { Variables: Record<string, unknown> };
      expect(variables.Variables, name).toEqual({ TABLE_NAME: { Ref: tableId }, NODE_OPTIONS: '--enable-source-maps', LOG_LEVEL: 'info' });
    }
    // One log group per function plus the API access log, all expiring, and no log-retention
    // custom resource.
    dev.template.resourceCountIs('AWS::Logs::LogGroup', allFunctions().length + 1);
    dev.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('keys, indexes, TTL, stream and PITR of the table match lib/store/table.ts', () => {
    const table = onlyResource(dev, 'AWS::DynamoDB::Table').Properties!;
    const byName = (a: { AttributeName: string }, b: { AttributeName: string }) => a.AttributeName.localeCompare(b.AttributeName);
    expect(table.KeySchema).toEqual(tableDefinition.KeySchema);
    expect([...(table.AttributeDefinitions as { AttributeName: string }[])].sort(byName)).toEqual(
      [...tableDefinition.AttributeDefinitions].sort(byName),
    );
    expect(table.GlobalSecondaryIndexes).toEqual(expect.arrayContaining(tableDefinition.GlobalSecondaryIndexes));
    expect(table.GlobalSecondaryIndexes).toHaveLength(tableDefinition.GlobalSecondaryIndexes.length);
    expect(table).toMatchObject({
      BillingMode: tableDefinition.BillingMode,
      StreamSpecification: { StreamViewType: tableDefinition.StreamSpecification.StreamViewType },
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('protects the table from deletion in prod and not in dev', () => {
    const devTable = onlyResource(dev, 'AWS::DynamoDB::Table');
    expect(devTable.DeletionPolicy).toBe('Delete');
    expect(devTable.Properties?.DeletionProtectionEnabled ?? false).toBe(false);
    const prodTable = onlyResource(prod, 'AWS::DynamoDB::Table');
    expect(prodTable.DeletionPolicy).toBe('Retain');
    expect(prodTable.UpdateReplacePolicy).toBe('Retain');
    expect(prodTable.Properties?.DeletionProtectionEnabled).toBe(true);
  });

  it('creates a Cognito user pool when no issuer is given and uses the given issuer/audience otherwise', () => {
    const pool = resourcesOfType(dev.json, 'AWS::Cognito::UserPool')[0]![0];
    const client = resourcesOfType(dev.json, 'AWS::Cognito::UserPoolClient')[0]![0];
    dev.template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    expect(onlyResource(dev, 'AWS::ApiGatewayV2::Authorizer').Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: { 'Fn::GetAtt': [pool, 'ProviderURL'] }, Audience: [{ Ref: client }] },
    });
    expect(dev.json.Outputs).toMatchObject({ UserPoolId: { Value: { Ref: pool } }, UserPoolClientId: { Value: { Ref: client } } });

    prod.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(onlyResource(prod, 'AWS::ApiGatewayV2::Authorizer').Properties).toMatchObject({
      JwtConfiguration: { Issuer: ISSUER, Audience: ['app-a', 'app-b'] },
    });
    expect(prod.json.Outputs).not.toHaveProperty('UserPoolId');
  });

  it('refuses an issuer without an audience', () => {
    expect(() => synthStack({ jwtIssuer: ISSUER })).toThrow(/jwtIssuer and jwtAudience/);
  });

  it('throttles and access-logs the default stage, with CORS only when origins are given', () => {
    const stage = onlyResource(dev, 'AWS::ApiGatewayV2::Stage').Properties;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: THROTTLE.burstLimit, ThrottlingRateLimit: THROTTLE.rateLimit },
      AccessLogSettings: { DestinationArn: expect.anything() },
    });
    expect(onlyResource(dev, 'AWS::ApiGatewayV2::Api').Properties).not.toHaveProperty('CorsConfiguration');
    expect(onlyResource(prod, 'AWS::ApiGatewayV2::Api').Properties).toMatchObject({
      CorsConfiguration: { AllowOrigins: ['https://chat.example.com'] },
    });
  });

  it('names the event bus after the stage and outputs the API URL, table and bus names', () => {
    dev.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'sealtalk-group-dev' });
    prod.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'sealtalk-group-prod' });
    expect(Object.keys(dev.json.Outputs ?? {})).toEqual(
      expect.arrayContaining(['ApiUrl', 'TableName', 'EventBusName', 'UserPoolId', 'UserPoolClientId']),
    );
  });
});

const codeOfEveryFunction = (json: CfnTemplate): Record<string, unknown>[] =>
  resourcesOfType(json, 'AWS::Lambda::Function').map(([, f]) => f.Properties?.Code as Record<string, unknown>);

describe('event consumers', () => {
  it('routes each asynchronously invoked consumer from the bus to its function, with retries and a dead-letter queue', () => {
    const rules = resourcesOfType(dev.json, 'AWS::Events::Rule');
    const busId = dev.stack.getLogicalId(dev.stack.bus.node.defaultChild as never);
    const invoked = consumers.filter((c) => c.delivery === 'lambda');
    expect(invoked.map((c) => c.handler)).toContain('user-profile-updated');
    for (const consumer of invoked) {
      const fnId = functionLogicalId(dev, consumer.handler);
      const rule = rules.find(([, r]) =>
        (r.Properties?.Targets as { Arn: unknown }[]).some((t) => JSON.stringify(t.Arn).includes(fnId)),
      );
      expect(rule, consumer.handler).toBeDefined();
      const props = rule![1].Properties!;
      expect(props.EventBusName).toEqual({ Ref: busId });
      expect(props.EventPattern).toEqual(eventPatternOf(consumer));
      const [target] = props.Targets as { DeadLetterConfig?: { Arn: unknown }; RetryPolicy?: Record<string, number> }[];
      expect(target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
      expect(target?.DeadLetterConfig?.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/DeadLetters/), 'Arn'] });
      const fn = dev.json.Resources[fnId]!.Properties!;
      expect(fn.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/DeadLetters/), 'Arn'] } });
    }
  });

  it('gives each consumer the table access the route table declares', () => {
    for (const consumer of consumers) {
      const actions = actionsOf(dev, consumer.handler);
      expect(actions).toEqual(expect.arrayContaining(consumer.table === 'write' ? ['dynamodb:UpdateItem'] : ['dynamodb:GetItem']));
    }
  });
});

describe('function packaging', () => {
  it('needs no dist/ in template-test mode: every function gets the placeholder code', () => {
    const codes = codeOfEveryFunction(dev.json);
    expect(codes).toHaveLength(allFunctions().length);
    for (const code of codes) expect(code).toEqual({ ZipFile: PLACEHOLDER_CODE });
  });

  it('refuses to build a deployable stack when a function has no bundle, naming it', () => {
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    const app = new App({ outdir: join(scratch, 'out-empty') });
    expect(() => new GroupServiceStack(app, 'NoBundles', { functionsDir: empty })).toThrow(
      /no bundle for function '[a-z-]+'.*npm run build/,
    );
  });

  it('packages each function from its own bundle directory when bundling', () => {
    const dist = join(scratch, 'dist');
    for (const name of allFunctions()) {
      mkdirSync(join(dist, name), { recursive: true });
      writeFileSync(join(dist, name, 'index.mjs'), `export const handler = async () => ${JSON.stringify(name)};\n`);
    }
    const app = new App({ outdir: join(scratch, 'out-bundled') });
    const stack = new GroupServiceStack(app, 'Bundled', { functionsDir: dist });
    const codes = codeOfEveryFunction(Template.fromStack(stack).toJSON() as CfnTemplate);
    expect(codes.every((code) => typeof code.S3Key === 'string' && code.ZipFile === undefined)).toBe(true);
    expect(new Set(codes.map((code) => code.S3Key)).size).toBe(allFunctions().length);
  });
});
