import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectStoppedWithin, repoRoot, startService } from '#tests/helpers/local-runtime.ts';

/**
 * The real `npm start` (DynamoDB Local in Java, the event pipeline, the gateway), stopped each way a
 * terminal, a script or CI stops it: afterwards the port refuses connections and neither node nor
 * java is alive.
 */

describe('stopping npm start', { timeout: 30_000 }, () => {
  it('stops node and Java on Ctrl-C (SIGINT to node)', async () => {
    const service = await startService();
    process.kill(service.nodePid, 'SIGINT');
    expect(await expectStoppedWithin(service, 5_000)).toBeLessThan(5_000);
  });

  it('stops node and Java on SIGTERM to npm (what `npm start & ... kill $!` sends)', async () => {
    const service = await startService();
    process.kill(service.npm.pid as number, 'SIGTERM');
    expect(await expectStoppedWithin(service, 5_000)).toBeLessThan(5_000);
  });

  it('stops node and Java when npm dies (SIGKILL to npm)', async () => {
    const service = await startService();
    process.kill(service.npm.pid as number, 'SIGKILL');
    expect(await expectStoppedWithin(service, 5_000)).toBeLessThan(5_000);
  });
});

describe('npm run token against a running npm start', { timeout: 30_000 }, () => {
  it('signs with the running server’s secret whatever DATA_DIR says, creating nothing', async () => {
    const service = await startService();
    const elsewhere = join(service.dataDir, 'not-the-server-data-dir');
    const token = execFileSync('npm', ['run', '-s', 'token', '--', 'alice', '--name', 'Alice'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(service.port), DATA_DIR: elsewhere, LOCAL_JWT_SECRET: '' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(existsSync(elsewhere)).toBe(false);
    const res = await fetch(`http://127.0.0.1:${service.port}/user/groups`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ code: 200, result: [] });
    process.kill(service.nodePid, 'SIGTERM');
    await expectStoppedWithin(service, 5_000);
  });
});
