import { App } from 'aws-cdk-lib';
import { buildFunctions } from './build.ts';
import { GroupServiceStack } from './stack.ts';
import type { Stage } from './stack.ts';

/**
 * The CDK app (`cdk.json`: `node --import tsx infra/app.ts`). Context: `stage` (dev|prod),
 * `stackName`, `jwtIssuer` + `jwtAudience`, `corsOrigins`, `logLevel`, `alarmTopicArn` or
 * `alarmEmail`, `domainName` + `certificateArn`, the RongCloud keys (each described on
 * `GroupServiceStackProps` in infra/stack.ts) and `regularClearRate`.
 *
 * Commands that need assets (synth, deploy, diff, watch) bundle first (`infra/build.ts`, ~1-2 s), so
 * a deployment never ships a stale `dist/`, and validate the template. Commands that need none
 * (`cdk ls`, `cdk destroy`) get `aws:cdk:bundling-stacks: []` from the CLI: they skip both, and the
 * functions get placeholder code (see infra/function.ts).
 */
const app = new App();

const bundlingStacks = app.node.tryGetContext('aws:cdk:bundling-stacks') as unknown;
if (!Array.isArray(bundlingStacks) || bundlingStacks.length > 0) await buildFunctions();
else process.env.CDK_VALIDATION ??= 'false';

const stage = (app.node.tryGetContext('stage') as Stage | undefined) ?? 'dev';
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? `SealtalkGroupService-${stage}`;

new GroupServiceStack(app, stackName, {
  stage,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: `SealTalk-compatible group service (${stage})`,
});

app.synth();
