import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '#lib/log.ts';
import { deadLetterFile } from './bus.ts';

/**
 * The local stand-in for EventBridge Scheduler (`npm start`): runs each job every `everyMs` (the
 * same period as its schedule in the stack), the first time one period after the start. A failing
 * run is retried twice with backoff, like Lambda's asynchronous retries, then recorded in
 * `<dataDir>/dead-letters.jsonl` (queue `scheduled-job-failures`).
 *
 * It also answers on loopback, for operators and tests (`npm run regular-clear`, `npm run janitor`):
 * - `POST /jobs/<name>/run` runs the job now and answers `{ job, ms, result }` (HTTP 200) or
 *   `{ job, ms, error }` (HTTP 500; no retries: the caller sees the failure);
 * - `GET /jobs` lists the jobs with their period and last run.
 */

export interface LocalJob {
  name: string;
  everyMs: number;
  /** One run; its result is what `POST /jobs/<name>/run` answers. */
  run: () => Promise<unknown>;
}

export interface LocalSchedulerOptions {
  jobs: readonly LocalJob[];
  dataDir: string;
  /** Run the jobs on their periods. @default true */
  timers?: boolean;
  /** Retries of a failed timed run. @default 2 */
  retryAttempts?: number;
  /** Wait before the first retry; doubles per retry. @default 1000 */
  retryDelayMs?: number;
  /** @default 0 (a free port); listens on 127.0.0.1 */
  port?: number;
}

export interface LocalScheduler {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** Runs a job now (no retries). */
  runNow(name: string): Promise<unknown>;
  stop(): Promise<void>;
}

interface JobState {
  job: LocalJob;
  timer?: NodeJS.Timeout;
  running: number;
  lastRun?: { at: string; ms: number; ok: boolean; error?: string };
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const startLocalScheduler = async (options: LocalSchedulerOptions): Promise<LocalScheduler> => {
  const log = createLogger({ service: 'sealtalk-group', component: 'local-scheduler' });
  const retryAttempts = options.retryAttempts ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const states = new Map<string, JobState>();
  for (const job of options.jobs) {
    if (states.has(job.name)) throw new Error(`local scheduler: two jobs named ${job.name}`);
    if (!(job.everyMs > 0)) throw new Error(`local scheduler: job ${job.name} needs a positive period`);
    states.set(job.name, { job, running: 0 });
  }
  let stopping = false;
  const inFlight = new Set<Promise<unknown>>();

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };

  const runOnce = async (state: JobState): Promise<unknown> => {
    const started = Date.now();
    state.running += 1;
    try {
      const result = await state.job.run();
      state.lastRun = { at: new Date(started).toISOString(), ms: Date.now() - started, ok: true };
      return result;
    } catch (error) {
      state.lastRun = { at: new Date(started).toISOString(), ms: Date.now() - started, ok: false, error: errorText(error) };
      throw error;
    } finally {
      state.running -= 1;
    }
  };

  /** A timed run: retried like Lambda's async invocations, then dead-lettered. */
  const timedRun = async (state: JobState): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await runOnce(state);
        log.info('scheduled job ran', { job: state.job.name, ms: state.lastRun?.ms, result });
        return;
      } catch (error) {
        if (attempt >= retryAttempts || stopping) {
          log.error('scheduled job failed; recorded as a dead letter', { job: state.job.name, error: errorText(error), attempts: attempt + 1 });
          appendFileSync(
            deadLetterFile(options.dataDir),
            `${JSON.stringify({ time: new Date().toISOString(), queue: 'scheduled-job-failures', job: state.job.name, reason: 'retryAttempts exhausted', lastError: errorText(error) })}\n`,
          );
          return;
        }
        log.warn('scheduled job failed; retrying', { job: state.job.name, error: errorText(error), attempt: attempt + 1 });
        await sleep(retryDelayMs * 2 ** attempt);
      }
    }
  };

  if (options.timers ?? true) {
    for (const state of states.values()) {
      state.timer = setInterval(() => {
        if (!stopping) void track(timedRun(state));
      }, state.job.everyMs);
      state.timer.unref();
    }
  }

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/jobs') {
      send(
        res,
        200,
        [...states.values()].map((s) => ({ name: s.job.name, everyMs: s.job.everyMs, running: s.running, lastRun: s.lastRun ?? null })),
      );
      return;
    }
    const match = /^\/jobs\/([^/]+)\/run$/.exec(url.pathname);
    const state = match ? states.get(decodeURIComponent(match[1] as string)) : undefined;
    if (!match || req.method !== 'POST') {
      send(res, 404, { error: `unknown request ${req.method ?? ''} ${url.pathname}: POST /jobs/<name>/run or GET /jobs` });
      return;
    }
    if (!state) {
      send(res, 404, { error: `no job ${match[1]}; jobs: ${[...states.keys()].join(', ')}` });
      return;
    }
    if (stopping) {
      send(res, 503, { job: state.job.name, error: 'the local runtime is stopping' });
      return;
    }
    const started = Date.now();
    try {
      const result = await track(runOnce(state));
      send(res, 200, { job: state.job.name, ms: Date.now() - started, result });
    } catch (error) {
      log.error('job run on request failed', { job: state.job.name, error: errorText(error) });
      send(res, 500, { job: state.job.name, ms: Date.now() - started, error: errorText(error) });
    }
  };

  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => void handle(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    runNow: (name) => {
      const state = states.get(name);
      if (!state) return Promise.reject(new Error(`no job ${name}`));
      return track(runOnce(state));
    },
    stop: async () => {
      stopping = true;
      for (const state of states.values()) if (state.timer) clearInterval(state.timer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Runs in flight get a moment to finish (their work is idempotent if cut short).
      await Promise.race([Promise.allSettled([...inFlight]), sleep(5_000)]);
      server.closeAllConnections();
      await closed;
    },
  };
};
