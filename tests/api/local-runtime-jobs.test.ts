import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAR_RETENTION_MS } from '#lib/domain/clearing.ts';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';
import { expectStoppedWithin, repoRoot, startService } from '#tests/helpers/local-runtime.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/**
 * The scheduled jobs of `npm start`, run the way an operator runs them: `npm run regular-clear`
 * and `npm run janitor` against the running runtime, RongCloud calls going to the configured URL
 * (the fake, which verifies every signature).
 */

const run = promisify(execFile);

let fake: FakeRongCloud;
beforeAll(async () => {
  fake = await startFakeRongCloud();
});
afterAll(() => fake?.close());

const rongcloudEnv = () => ({ RONGCLOUD_APP_KEY: fake.appKey, RONGCLOUD_APP_SECRET: fake.appSecret, RONGCLOUD_API_URL: fake.url });

const npmRun = (port: number, ...args: string[]) =>
  run('npm', ['run', '-s', ...args], { cwd: repoRoot, env: { ...process.env, PORT: String(port), LOCAL_JWT_SECRET: '' }, encoding: 'utf8' });

const post = async (port: number, bearer: string, path: string, body: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { code: number; result?: { id: string } };
  expect(json.code, path).toBe(200);
  return json.result;
};

describe('npm run regular-clear / npm run janitor against npm start', { timeout: 60_000 }, () => {
  it('clears the due groups through the configured RongCloud URL and prints what it did', async () => {
    const service = await startService({ env: rongcloudEnv() });
    const owner = uniqueUserId('owner');
    const members = [uniqueUserId('m'), uniqueUserId('m')];
    const ownerToken = (await npmRun(service.port, 'token', '--', owner, '--name', 'Owner')).stdout.trim();
    const { id: cleared } = (await post(service.port, ownerToken, '/group/create', { name: 'Cleared', memberIds: members }))!;
    const { id: untouched } = (await post(service.port, ownerToken, '/group/create', { name: 'Not cleared', memberIds: members }))!;
    await post(service.port, ownerToken, '/group/set_regular_clear', { groupId: cleared, clearStatus: 36 });

    const before = Date.now();
    const { stdout } = await npmRun(service.port, 'regular-clear');
    const after = Date.now();
    expect(stdout).toMatch(/^regular clear: 1 due, 1 cleared, 0 skipped, 0 failed; 3 history calls in [\d.]+ s$/m);
    expect(stdout).toContain(`${cleared}: older than 36 hours`);
    expect(stdout).toMatch(/3 members, 3 calls, ST:MsgClear sent/);

    const history = fake.calls.filter((c) => c.path === '/conversation/message/history/clean.json' && c.form.get('targetId') === cleared);
    expect(history.map((c) => c.form.get('fromUserId')).sort()).toEqual([owner, ...members].sort());
    const cutoff = Number(history[0]!.form.get('msgTimestamp'));
    expect(cutoff).toBeGreaterThanOrEqual(before - CLEAR_RETENTION_MS[36]);
    expect(cutoff).toBeLessThanOrEqual(after - CLEAR_RETENTION_MS[36]);
    // ST:MsgClear from the owner, with the cutoff as a number; sent by the time the command returned.
    const msgClear = fake.calls.filter((c) => c.form.get('objectName') === 'ST:MsgClear');
    expect(msgClear.map((c) => [c.form.get('fromUserId'), c.form.get('toGroupId')])).toEqual([[owner, cleared]]);
    expect(JSON.parse(msgClear[0]!.form.get('content')!)).toEqual({ operatorUserId: owner, operation: 'clearGroupMsg', clearTime: cutoff });
    expect(fake.calls.some((c) => c.form.get('targetId') === untouched)).toBe(false);

    // Right after, nothing is due.
    expect((await npmRun(service.port, 'regular-clear')).stdout).toMatch(/^regular clear: 0 due, 0 cleared, 0 skipped, 0 failed; 0 history calls/m);
    expect((await npmRun(service.port, 'janitor')).stdout).toMatch(/^janitor done in \d+ ms: /m);

    process.kill(service.nodePid, 'SIGTERM');
    await expectStoppedWithin(service, 5_000);
  });

  it('says so when no runtime runs on PORT', async () => {
    const failed = await npmRun(1, 'regular-clear').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/no local runtime with a scheduler is running on port 1: start it with npm start/);
  });
});
