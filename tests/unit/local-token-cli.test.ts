import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '#infra/local/tokens.ts';

/**
 * `npm run token` (infra/local/token-cli.ts) as a process: which secret it signs with, what it
 * creates, what it says, and what it publishes. Its runtime files live under a TMPDIR of its own
 * (a fake "running server" is this test process).
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let temp: string;
let bus: Server | undefined;
const published: { target: unknown; entries: unknown }[] = [];
let busReply: { status: number; body: unknown } = { status: 200, body: { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] } };
let busEndpoint: string;

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'token-cli-'));
  bus = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      published.push({ target: req.headers['x-amz-target'], entries: (JSON.parse(text) as { Entries: unknown }).Entries });
      res.writeHead(busReply.status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(busReply.body));
    });
  });
  await new Promise<void>((resolve) => bus?.listen(0, '127.0.0.1', () => resolve()));
  busEndpoint = `http://127.0.0.1:${(bus.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (bus ? bus.close(() => resolve()) : resolve()));
  rmSync(temp, { recursive: true, force: true });
});

afterEach(() => {
  published.length = 0;
  busReply = { status: 200, body: { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] } };
  rmSync(join(temp, 'sealtalk-group-local'), { recursive: true, force: true });
});

/** Pretends a server runs on `port` (this process), signing with `secret` unless it uses LOCAL_JWT_SECRET. */
const fakeRuntime = (port: number, secret: string | null, extra: Record<string, unknown> = {}): void => {
  const dataDir = join(temp, `server-${port}`);
  mkdirSync(dataDir, { recursive: true });
  if (secret !== null) writeFileSync(join(dataDir, 'local-jwt-secret'), `${secret}\n`);
  mkdirSync(join(temp, 'sealtalk-group-local'), { recursive: true });
  writeFileSync(
    join(temp, 'sealtalk-group-local', `runtime-${port}.json`),
    JSON.stringify({
      pid: process.pid,
      port,
      url: `http://127.0.0.1:${port}`,
      dataDir,
      ...(secret === null ? { secretFromEnv: true } : { secretFile: join(dataDir, 'local-jwt-secret') }),
      ...extra,
    }),
  );
};

/** Runs the CLI (asynchronously: the fake bus answers from this process). */
const tokenCli = (args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/token-cli.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, TMPDIR: temp, LOCAL_JWT_SECRET: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });

describe('npm run token', { timeout: 20_000 }, () => {
  it('with npm start running on PORT: signs with its secret, creates nothing, publishes the profile on its bus', async () => {
    fakeRuntime(41001, 'the-running-server-secret', { busEndpoint, busName: 'sealtalk-local' });
    const elsewhere = join(temp, 'not-the-server-data-dir');
    const run = await tokenCli(['alice', '--name', 'Alice', '--group-verify', '0'], { PORT: '41001', DATA_DIR: elsewhere });
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await verifyToken(run.stdout.trim(), 'the-running-server-secret')).toMatchObject({ sub: 'alice', name: 'Alice', group_verify: '0' });
    expect(existsSync(elsewhere)).toBe(false);
    expect(published).toEqual([
      {
        target: 'AWSEvents.PutEvents',
        entries: [
          {
            EventBusName: 'sealtalk-local',
            Source: 'sealtalk.user',
            DetailType: 'UserProfileUpdated',
            Detail: JSON.stringify({ userId: 'alice', nickname: 'Alice', groupVerify: 0 }),
          },
        ],
      },
    ]);
  });

  it('still prints the token, with a warning, when the bus refuses the profile', async () => {
    fakeRuntime(41002, 'secret-2', { busEndpoint, busName: 'sealtalk-local' });
    busReply = { status: 200, body: { FailedEntryCount: 1, Entries: [{ ErrorCode: 'NotFound', ErrorMessage: 'no such bus' }] } };
    const run = await tokenCli(['bob', '--phone', '+86 1'], { PORT: '41002' });
    expect(run.status).toBe(0);
    expect(await verifyToken(run.stdout.trim(), 'secret-2')).toMatchObject({ sub: 'bob', phone_number: '+86 1' });
    expect(run.stderr).toMatch(/^warning: the profile of bob was not published on the local bus \(.*NotFound.*\).*\n$/);
    expect(published).toHaveLength(1);
  });

  it('without npm start on PORT: signs with $DATA_DIR/local-jwt-secret (creating it) and says so on stderr', async () => {
    const dataDir = join(temp, 'data');
    const run = await tokenCli(['carol', '--name', 'Carol'], { PORT: '41003', DATA_DIR: dataDir });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(
      `no local runtime is running on port 41003: signed with ${join(dataDir, 'local-jwt-secret')} (npm start uses it with the same DATA_DIR)\n`,
    );
    expect(existsSync(join(dataDir, 'local-jwt-secret'))).toBe(true);
    expect(published).toEqual([]);
  });

  it('tells how to pair with a server that signs with LOCAL_JWT_SECRET, and uses LOCAL_JWT_SECRET when given', async () => {
    fakeRuntime(41004, null, { busEndpoint, busName: 'sealtalk-local' });
    const refused = await tokenCli(['dave'], { PORT: '41004' });
    expect(refused).toMatchObject({ status: 1, stdout: '' });
    expect(refused.stderr).toContain('LOCAL_JWT_SECRET');
    const run = await tokenCli(['dave'], { PORT: '41004', LOCAL_JWT_SECRET: 'shared' });
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(await verifyToken(run.stdout.trim(), 'shared')).toMatchObject({ sub: 'dave' });
    expect(published, 'no profile flags: nothing to publish').toEqual([]);
  });
});
