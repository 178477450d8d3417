import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';
import { readRuntime, removeRuntime, runtimeFile } from '#infra/local/runtime-file.ts';

/**
 * The real `npm start` as a child process (DynamoDB Local in Java, the event pipeline, the
 * gateway), on a free port with its own DATA_DIR: for tests of the local runtime as a user meets
 * it. Every service a test starts is killed after it, even when the test fails.
 */

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Started {
  npm: ChildProcess;
  dataDir: string;
  port?: number;
  nodePid?: number;
  javaPid?: number;
  output: string;
}

const started: Started[] = [];

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const waitFor = async <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
};

/** Gone: no such process, or a zombie waiting to be reaped (it holds nothing any more). */
export const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
};

export const refusesConnections = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

/** Runs `npm start` on a free port with its own DATA_DIR; resolves once it listens and its runtime file is written. */
export const startService = async (
  options: { env?: Record<string, string>; dataDir?: string } = {},
): Promise<Required<Omit<Started, 'output'>> & Started> => {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sealtalk-lifecycle-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...options.env };
  // This run's DynamoDB Local and table are not the started service's business.
  delete env.TABLE_NAME;
  delete env.AWS_ENDPOINT_URL_DYNAMODB;
  delete env.LOCAL_JWT_SECRET;
  const npm = spawn('npm', ['start'], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const record: Started = { npm, dataDir, output: '' };
  started.push(record);
  npm.stdout?.on('data', (chunk: Buffer) => (record.output += chunk.toString('utf8')));
  npm.stderr?.on('data', (chunk: Buffer) => (record.output += chunk.toString('utf8')));

  const port = await waitFor(
    'the "listening on" line',
    () => {
      if (npm.exitCode !== null) throw new Error(`npm start exited with ${npm.exitCode}:\n${record.output}`);
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(record.output);
      return match ? Number(match[1]) : undefined;
    },
    20_000,
  );
  record.port = port;
  const runtime = await waitFor('the runtime file', () => readRuntime(port) ?? undefined, 5_000);
  record.nodePid = runtime.pid;
  record.javaPid = runtime.javaPid;
  expect(runtime).toMatchObject({ port, url: `http://127.0.0.1:${port}`, dataDir, secretFile: join(dataDir, 'local-jwt-secret') });
  expect(runtime.javaPid, 'the runtime file records the JVM').toEqual(expect.any(Number));
  return { ...record, port, nodePid: runtime.pid, javaPid: runtime.javaPid as number };
};

/** Within `ms`: the port refuses connections, node and java are gone, the runtime file is removed. */
export const expectStoppedWithin = async (service: { port: number; nodePid: number; javaPid: number }, ms: number): Promise<number> => {
  const since = Date.now();
  await waitFor(
    'node and java to stop',
    async () => ((await refusesConnections(service.port)) && gone(service.nodePid) && gone(service.javaPid) ? true : undefined),
    ms,
  );
  expect(existsSync(runtimeFile(service.port))).toBe(false);
  return Date.now() - since;
};

const killQuietly = (pid: number | undefined): void => {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

afterEach(() => {
  for (const service of started.splice(0)) {
    if (service.npm.pid !== undefined) killQuietly(-service.npm.pid); // npm, its sh and node
    killQuietly(service.nodePid);
    killQuietly(service.javaPid);
    // The watchdog shell and anything else started for this DATA_DIR.
    try {
      for (const pid of execFileSync('pgrep', ['-f', service.dataDir], { encoding: 'utf8' }).split('\n').filter(Boolean)) killQuietly(Number(pid));
    } catch {
      // pgrep exits 1 when nothing matches
    }
    if (service.port !== undefined && service.nodePid !== undefined) removeRuntime(service.port, service.nodePid);
    rmSync(service.dataDir, { recursive: true, force: true });
  }
});

