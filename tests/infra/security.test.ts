import { describe, expect, it } from 'vitest';
import { resourcesOfType, synthStack } from './helpers.ts';
import type { CfnResource } from './helpers.ts';

/**
 * Nothing the stack creates is public or world-readable: no resource policy lets anyone in without
 * a source condition, no function has a public URL, every queue refuses plain HTTP, and no IAM
 * statement allows every action, or every resource except for the actions AWS cannot scope.
 */

const dev = synthStack({}, { rongcloudAppKey: 'app-key-1' });

interface Statement {
  Effect: string;
  Principal?: unknown;
  Action?: string | string[];
  Resource?: unknown;
  Condition?: Record<string, unknown>;
}

const statementsOf = (resource: CfnResource): Statement[] =>
  ((resource.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? []);
const actions = (s: Statement): string[] => (s.Action === undefined ? [] : Array.isArray(s.Action) ? s.Action : [s.Action]);
const isEveryone = (principal: unknown): boolean =>
  principal === '*' || (typeof principal === 'object' && principal !== null && (principal as { AWS?: unknown }).AWS === '*');

describe('nothing is public', () => {
  it('no resource policy allows everyone (queue and topic policies only deny, or name a service with a source)', () => {
    const policies = [
      ...resourcesOfType(dev.json, 'AWS::SQS::QueuePolicy'),
      ...resourcesOfType(dev.json, 'AWS::SNS::TopicPolicy'),
      ...resourcesOfType(dev.json, 'AWS::SecretsManager::ResourcePolicy'),
    ];
    expect(policies.length).toBeGreaterThan(0);
    for (const [id, policy] of policies) {
      for (const statement of statementsOf(policy)) {
        if (statement.Effect !== 'Allow') continue;
        expect(isEveryone(statement.Principal), `${id} allows everyone`).toBe(false);
        // A service principal must be tied to one source (our rule, our schedule, our topic).
        if (typeof statement.Principal === 'object' && statement.Principal !== null && 'Service' in statement.Principal) {
          expect(statement.Condition, `${id}: service principal without a source condition`).toBeDefined();
        }
      }
    }
  });

  it('every queue refuses requests without TLS', () => {
    const queues = resourcesOfType(dev.json, 'AWS::SQS::Queue').map(([id]) => id);
    const denied = new Set(
      resourcesOfType(dev.json, 'AWS::SQS::QueuePolicy')
        .filter(([, p]) =>
          statementsOf(p).some(
            (s) => s.Effect === 'Deny' && JSON.stringify(s.Condition ?? {}).includes('"aws:SecureTransport":"false"'),
          ),
        )
        .flatMap(([, p]) => (p.Properties?.Queues as { Ref: string }[]).map((q) => q.Ref)),
    );
    expect(queues.length).toBeGreaterThan(0);
    for (const queue of queues) expect(denied.has(queue), queue).toBe(true);
  });

  it('every Lambda permission names its caller and its source; no function has a public URL', () => {
    const permissions = resourcesOfType(dev.json, 'AWS::Lambda::Permission');
    expect(permissions.length).toBeGreaterThan(0);
    for (const [id, permission] of permissions) {
      const props = permission.Properties ?? {};
      expect(props.Principal, id).not.toBe('*');
      expect(props.SourceArn ?? props.SourceAccount, `${id} has no source`).toBeDefined();
    }
    expect(resourcesOfType(dev.json, 'AWS::Lambda::Url')).toEqual([]);
  });

  it('no IAM statement allows every action; only actions AWS cannot scope (X-Ray, ListStreams) use every resource', () => {
    const statements = resourcesOfType(dev.json, 'AWS::IAM::Policy').flatMap(([id, p]) => statementsOf(p).map((s) => ({ id, s })));
    expect(statements.length).toBeGreaterThan(0);
    for (const { id, s } of statements) {
      if (s.Effect !== 'Allow') continue;
      expect(actions(s).some((a) => a === '*' || a.endsWith(':*')), `${id}: ${actions(s).join(',')}`).toBe(false);
      if (s.Resource === '*') expect(actions(s).every((a) => a.startsWith('xray:') || a === 'dynamodb:ListStreams'), `${id}: ${actions(s).join(',')} on *`).toBe(true);
    }
  });
});
