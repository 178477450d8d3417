import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TableAccess } from '#lib/routes.ts';
import { FUNCTIONS_DIST } from './build.ts';

/**
 * Placeholder code used ONLY when the CDK says this stack needs no bundling: template tests build
 * the app with context `aws:cdk:bundling-stacks: []`, and the CLI does the same for commands that
 * deploy nothing (`cdk ls`, `cdk destroy`). It lets those run without `dist/`. It can never reach a
 * deployment: every command that deploys or synthesizes assets requires bundling, and then a missing
 * bundle is an error.
 */
export const PLACEHOLDER_CODE = 'exports.handler = async () => ({ statusCode: 501 });';

/** `LOG_LEVEL` values lib/log.ts and lib/config.ts accept (context `logLevel`). */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GroupFunctionProps {
  /** File name in `functions/` without `.ts`; the bundle is `<distDir>/<name>/index.mjs`. */
  readonly name: string;
  /** Directory holding the bundles (`dist/functions` by default, see `infra/build.ts`). */
  readonly distDir?: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** Extra environment; TABLE_NAME comes from `bindTable`. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Of the log group. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** For asynchronously invoked functions: where events go once Lambda's retries are spent. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Lambda's retries of a failed asynchronous invocation (0–2). */
  readonly retryAttempts?: number;
  /** `LOG_LEVEL` of the function (lib/log.ts filters by it). @default 'info' */
  readonly logLevel?: LogLevel;
}

const codeFor = (scope: Construct, name: string, distDir: string): lambda.Code => {
  if (!Stack.of(scope).bundlingRequired) return lambda.Code.fromInline(PLACEHOLDER_CODE);
  const dir = join(distDir, name);
  if (!existsSync(join(dir, 'index.mjs'))) {
    throw new Error(`no bundle for function '${name}' in ${dir}: is there a functions/${name}.ts? (npm run build)`);
  }
  return lambda.Code.fromAsset(dir);
};

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
/** TransactWriteItems is authorized per item by these same actions. */
export const TABLE_ACTIONS: Record<TableAccess, readonly string[]> = {
  read: READ_ACTIONS,
  write: [...READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
};

/**
 * The one Lambda function construct: every function of the service is one of these, built from its
 * esbuild bundle with the same runtime, architecture, limits, tracing and logging.
 */
export class GroupFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: GroupFunctionProps) {
    // A plain LogGroup (not `logRetention`) so CDK adds no log-retention custom-resource function.
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      code: codeFor(scope, props.name, props.distDir ?? FUNCTIONS_DIST),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      // Plain text, stated so it never drifts to JSON. lib/log.ts writes one JSON object per line
      // with process.stdout.write (request id included, EMF metrics too), and Lambda passes such
      // raw stdout lines through unchanged in the Text format; only console.* output would get the
      // runtime's `time\trequestId\tLEVEL\t` prefix. The JSON format would apply Lambda's log-level
      // filtering to those same lines: AWS docs "Log-level filtering" (monitoring-cloudwatchlogs-
      // log-level): stdout JSON is filtered by its "level" (INFO when missing or invalid), a line
      // without a valid "timestamp" gets one added, and the application log level (default INFO)
      // would drop our debug lines even with LOG_LEVEL=debug. The level is ours alone: LOG_LEVEL.
      loggingFormat: lambda.LoggingFormat.TEXT,
      environment: { NODE_OPTIONS: '--enable-source-maps', LOG_LEVEL: props.logLevel ?? 'info', ...props.environment },
      description: `sealtalk-group ${props.name}`,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      ...(props.retryAttempts === undefined ? {} : { retryAttempts: props.retryAttempts }),
    });
  }

  /**
   * Least privilege on the table (and its indexes) and TABLE_NAME, in one call. Exactly the
   * actions the repositories use: no Scan, no PartiQL, no stream reads.
   */
  bindTable(table: ITable, access: TableAccess): this {
    table.grant(this, ...TABLE_ACTIONS[access]);
    this.addEnvironment('TABLE_NAME', table.tableName);
    return this;
  }
}
