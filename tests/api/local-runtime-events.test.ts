import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_TABLE_NAME } from '#infra/local/local-config.ts';
import { startDynamoDbLocal } from '#infra/local/dynamodb.ts';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';
import { expectStoppedWithin, repoRoot, startService, waitFor } from '#tests/helpers/local-runtime.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { concerns } from '#tests/helpers/pipeline.ts';

/**
 * `npm start` pointed at a RongCloud-compatible server (the fake, which verifies every signature),
 * used the way a developer uses it: tokens from `npm run -s token`, requests over HTTP.
 */

let fake: FakeRongCloud;
beforeAll(async () => {
  fake = await startFakeRongCloud();
});
afterAll(() => fake?.close());

const rongcloudEnv = () => ({ RONGCLOUD_APP_KEY: fake.appKey, RONGCLOUD_APP_SECRET: fake.appSecret, RONGCLOUD_API_URL: fake.url });

const token = (port: number, ...args: string[]): string =>
  execFileSync('npm', ['run', '-s', 'token', '--', ...args], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), LOCAL_JWT_SECRET: '' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

const createOver = async (port: number, bearer: string, body: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}/group/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { code: number; result: { id: string; userStatus: { id: string; status: number }[] } };
  expect(json.code).toBe(200);
  return json.result;
};

const callsFor = (groupId: string) => fake.calls.filter((c) => concerns(c, groupId));

describe('npm start with RONGCLOUD_* set', { timeout: 45_000 }, () => {
  it('makes the reference’s signed calls for a create with a consent invitation, once each', async () => {
    const service = await startService({ env: rongcloudEnv() });
    const [alice, bob, carol] = [uniqueUserId('alice'), uniqueUserId('bob'), uniqueUserId('carol')];
    const aliceToken = token(service.port, alice, '--name', 'Alice');
    // Minting publishes Carol's profile on the local bus (as a user service would): her consent
    // setting counts before she ever made a request. Seen through a group she is already in.
    const { id: probe } = await createOver(service.port, aliceToken, { name: 'Probe', memberIds: [carol] });
    token(service.port, carol, '--name', 'Carol', '--group-verify', '0');
    await waitFor('Carol’s published profile', async () => {
      const res = await fetch(`http://127.0.0.1:${service.port}/group/${probe}/members`, { headers: { authorization: `Bearer ${aliceToken}` } });
      const members = ((await res.json()) as { result: { user: { id: string; nickname: string } }[] }).result;
      return members.some((m) => m.user.id === carol && m.user.nickname === 'Carol') ? true : undefined;
    }, 10_000);

    const { id: groupId, userStatus } = await createOver(service.port, aliceToken, { name: 'Weekend hikers', memberIds: [bob, carol] });
    expect(userStatus).toContainEqual({ id: carol, status: 3 });
    await waitFor('three calls at the fake', () => (callsFor(groupId).length >= 3 ? true : undefined), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const calls = callsFor(groupId);
    expect(calls.map((c) => `${c.path} ${c.form.get('objectName') ?? ''}`.trim()).sort()).toEqual(
      ['/group/create.json', '/message/group/publish.json ST:GrpNtf', '/message/private/publish.json ST:GrpApply'].sort(),
    );
    expect(calls.find((c) => c.path === '/group/create.json')!.form.getAll('userId').sort()).toEqual([alice, bob].sort());
    expect(calls.find((c) => c.form.get('objectName') === 'ST:GrpApply')!.form.getAll('toUserId')).toEqual([carol]);
    for (const call of calls) expect(call.headers['app-key']).toBe(fake.appKey);

    process.kill(service.nodePid, 'SIGTERM');
    await expectStoppedWithin(service, 5_000);
  });

  it('relays after a restart what was committed while it was down, and nothing twice', async () => {
    const first = await startService({ env: rongcloudEnv() });
    const owner = uniqueUserId('owner');
    const { id: before } = await createOver(first.port, token(first.port, owner, '--name', 'Owner'), { name: 'Before', memberIds: [uniqueUserId('m')] });
    await waitFor('the first group at the fake', () => (callsFor(before).length >= 2 ? true : undefined), 10_000);
    process.kill(first.nodePid, 'SIGINT');
    await expectStoppedWithin(first, 5_000);

    // While the runtime is down, a change is committed to its data (DynamoDB Local on the same
    // files, the create handler as a Lambda would run it).
    const ddb = await startDynamoDbLocal({ dbPath: `${first.dataDir}/dynamodb` });
    let during: string;
    try {
      Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint, TABLE_NAME: LOCAL_TABLE_NAME });
      const { callRoute } = await import('#tests/helpers/lambda.ts');
      const reply = await callRoute<{ code: number; result: { id: string } }>('POST', '/group/create', {
        as: owner,
        body: { name: 'While down', memberIds: [uniqueUserId('m')] },
      });
      expect(reply.body.code).toBe(200);
      during = reply.body.result.id;
    } finally {
      await ddb.stop();
    }
    expect(callsFor(during)).toEqual([]);

    const second = await startService({ env: rongcloudEnv(), dataDir: first.dataDir });
    await waitFor('the group committed while down at the fake', () => (callsFor(during).length >= 2 ? true : undefined), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(callsFor(during).map((c) => c.path)).toEqual(['/group/create.json', '/message/group/publish.json']);
    expect(callsFor(before).map((c) => c.path)).toEqual(['/group/create.json', '/message/group/publish.json']);
    process.kill(second.nodePid, 'SIGTERM');
    await expectStoppedWithin(second, 5_000);
  });
});
