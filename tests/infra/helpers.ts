import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { GroupServiceStack } from '#infra/stack.ts';
import type { GroupServiceStackProps } from '#infra/stack.ts';

// Template tests skip aws-cdk-lib's CloudFormation validation (seconds per synth); `npm run synth`
// keeps it. Read at synth time, so setting it before the first synth is enough.
process.env.CDK_VALIDATION = 'false';

/** Template-test mode: no bundling, so no `dist/` is needed (see infra/function.ts). */
export const TEST_CONTEXT = { 'aws:cdk:bundling-stacks': [] as string[] };

export interface Synthesized {
  readonly stack: GroupServiceStack;
  readonly template: Template;
  readonly json: CfnTemplate;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown }>;
}

export const synthStack = (props: GroupServiceStackProps = {}, context: Record<string, unknown> = {}): Synthesized => {
  const app = new App({ context: { ...TEST_CONTEXT, ...context } });
  const stack = new GroupServiceStack(app, 'GroupServiceTest', props);
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() as CfnTemplate };
};

export const resourcesOfType = (json: CfnTemplate, type: string): [string, CfnResource][] =>
  Object.entries(json.Resources).filter(([, r]) => r.Type === type);

/** Logical id of the Lambda function serving `name` (a `functionOf(route)` value). */
export const functionLogicalId = ({ stack }: Synthesized, name: string): string => {
  const fn = stack.functions.get(name);
  if (!fn) throw new Error(`the stack has no function ${name}`);
  return stack.getLogicalId(fn.node.defaultChild as CfnFunction);
};

/** Every IAM action allowed to the role of the function `name`, over all its policies. */
export const actionsOf = (synthesized: Synthesized, name: string): string[] => {
  const { json } = synthesized;
  const fn = json.Resources[functionLogicalId(synthesized, name)];
  const roleId = (fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements = resourcesOfType(json, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: { Effect: string; Action: string | string[] }[] }).Statement);
  return statements.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
};
