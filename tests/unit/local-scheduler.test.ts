import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterFile } from '#infra/local/bus.ts';
import { startLocalScheduler, type LocalScheduler } from '#infra/local/scheduler.ts';

const dirs: string[] = [];
const schedulers: LocalScheduler[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-scheduler-'));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const start = async (options: Parameters<typeof startLocalScheduler>[0]) => {
  const scheduler = await startLocalScheduler(options);
  schedulers.push(scheduler);
  return scheduler;
};

const waitUntil = async (what: string, check: () => boolean, timeoutMs = 3_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('the local scheduler', () => {
  it('runs each job every period, the first time one period after the start', async () => {
    const runs: number[] = [];
    const started = Date.now();
    await start({ dataDir: dataDir(), jobs: [{ name: 'tick', everyMs: 60, run: async () => void runs.push(Date.now()) }] });
    await waitUntil('three runs', () => runs.length >= 3);
    expect(runs[0]! - started).toBeGreaterThanOrEqual(55);
    expect(runs[2]! - runs[0]!).toBeGreaterThanOrEqual(110);
  });

  it('runs a job now on POST /jobs/<name>/run and answers its result; GET /jobs lists the last run', async () => {
    const scheduler = await start({ dataDir: dataDir(), timers: false, jobs: [{ name: 'report', everyMs: 3_600_000, run: async () => ({ groups: 2 }) }] });
    const res = await fetch(`${scheduler.endpoint}/jobs/report/run`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ job: 'report', result: { groups: 2 } });
    const list = (await (await fetch(`${scheduler.endpoint}/jobs`)).json()) as { name: string; lastRun: { ok: boolean } }[];
    expect(list).toEqual([expect.objectContaining({ name: 'report', everyMs: 3_600_000, lastRun: expect.objectContaining({ ok: true }) })]);
  });

  it('answers a failed run on request with HTTP 500 and the error, an unknown job with 404', async () => {
    const scheduler = await start({
      dataDir: dataDir(),
      timers: false,
      jobs: [{ name: 'broken', everyMs: 1000, run: () => Promise.reject(new Error('table unreachable')) }],
    });
    const failed = await fetch(`${scheduler.endpoint}/jobs/broken/run`, { method: 'POST' });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ job: 'broken', error: 'table unreachable' });
    const unknown = await fetch(`${scheduler.endpoint}/jobs/nope/run`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/no job nope; jobs: broken/);
  });

  it('retries a failing timed run twice with backoff, then records it in dead-letters.jsonl', async () => {
    const dir = dataDir();
    const attempts: number[] = [];
    await start({
      dataDir: dir,
      retryDelayMs: 5,
      jobs: [
        {
          name: 'flaky',
          everyMs: 40,
          // The first period's run and its two retries fail; later periods succeed.
          run: () => {
            if (attempts.length >= 3) return Promise.resolve();
            attempts.push(Date.now());
            return Promise.reject(new Error('still down'));
          },
        },
      ],
    });
    await waitUntil('the dead letter', () => existsSync(deadLetterFile(dir)) && readFileSync(deadLetterFile(dir), 'utf8').includes('flaky'));
    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(4);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(9);
    const lines = readFileSync(deadLetterFile(dir), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ queue: 'scheduled-job-failures', job: 'flaky', reason: 'retryAttempts exhausted', lastError: 'still down' });
  });

  it('refuses two jobs of one name', async () => {
    const run = async () => undefined;
    await expect(start({ dataDir: dataDir(), jobs: [{ name: 'a', everyMs: 1, run }, { name: 'a', everyMs: 1, run }] })).rejects.toThrow(/two jobs named a/);
  });
});

