import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { LocalEvents } from './events.ts';
import { ensureJava } from './java.ts';
import { ensureTable, localClient, startDynamoDbLocal } from './dynamodb.ts';
import { checkLocalConfig, LOCAL_TABLE_NAME } from './local-config.ts';
import { DEFAULT_PORT, findDynamoDbJava, isAlive, localLocation, processInfo, removeRuntime, runtimeFile, writeRuntime } from './runtime-file.ts';
import { loadSecret, SECRET_FILE } from './tokens.ts';

/**
 * `npm start`: the whole service on one machine, offline. Components start in order and stop in
 * reverse; each is `{ name, start() → stop }`: DynamoDB Local, the event pipeline (stream relay,
 * local bus, notifier, work queues), the scheduler (regular clear, janitor), the API gateway.
 *
 * Once everything runs, the runtime file (runtime-file.ts) says where: `npm run token` signs with
 * this server's secret through it. Every way of stopping `npm start` stops everything within a few
 * seconds: Ctrl-C, SIGTERM or SIGHUP (to npm or to node), and npm dying (see `watchNpm`).
 */

interface Component {
  name: string;
  start(): Promise<() => Promise<void>>;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// No CloudWatch here: the embedded-metric lines would only crowd the log (METRICS=on shows them).
process.env.METRICS ??= 'off';
// Before lib/config.ts is first imported (by checkLocalConfig): it parses process.env at import time.
process.env.TABLE_NAME ||= LOCAL_TABLE_NAME;

// --- configuration: checked before anything starts -----------------------------------------------

const configProblem = await checkLocalConfig(process.env);
if (configProblem) {
  console.error(configProblem);
  process.exit(1);
}

const { port, dataDir } = localLocation(process.env);
const host = '127.0.0.1';
const secretFromEnv = Boolean(process.env.LOCAL_JWT_SECRET);

ensureJava('exit');
mkdirSync(dataDir, { recursive: true });

/** Fails before DynamoDB Local starts (and before a second one opens the same `-dbPath`). */
const assertPortFree = (): Promise<void> =>
  new Promise((resolveCheck, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolveCheck()));
  });

// What the runtime file records, filled in as components start.
let actualPort = port;
let javaPid: number | undefined;

const dynamodb: Component = {
  name: 'dynamodb-local',
  start: async () => {
    const started = Date.now();
    const ddb = await startDynamoDbLocal({ dbPath: resolve(dataDir, 'dynamodb') });
    javaPid = findDynamoDbJava(ddb.port);
    // The handlers read these at import time (they are imported lazily, on first request).
    process.env.AWS_ENDPOINT_URL_DYNAMODB = ddb.endpoint;
    dynamoEndpoint = ddb.endpoint;
    process.env.AWS_REGION ||= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ||= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
    const tableName = process.env.TABLE_NAME as string; // defaulted above
    const client = localClient(ddb.endpoint);
    try {
      await ensureTable(client, tableName);
    } finally {
      client.destroy();
    }
    console.log(`DynamoDB Local ready at ${ddb.endpoint} (table ${tableName}, data in ${dataDir}) in ${Date.now() - started} ms`);
    return ddb.stop;
  },
};

let dynamoEndpoint = '';

/**
 * The event pipeline, as in AWS: the table's stream → the relay → a local bus speaking PutEvents
 * (`AWS_ENDPOINT_URL_EVENTBRIDGE`) → the notifier (RongCloud) and the other consumers. Events
 * committed while the runtime was down are relayed now (the relay keeps a checkpoint).
 */
const events: Component = {
  name: 'events',
  start: async () => {
    const { startLocalEvents } = await import('./events.ts');
    const ddb = localClient(dynamoEndpoint);
    const pipeline = await startLocalEvents({
      dataDir,
      tableName: process.env.TABLE_NAME as string,
      dynamoEndpoint,
      ddb,
      ...(process.env.LOCAL_BUS_PORT ? { busPort: Number(process.env.LOCAL_BUS_PORT) } : {}),
    });
    const rongcloud = process.env.RONGCLOUD_APP_KEY
      ? `RongCloud calls go to ${process.env.RONGCLOUD_API_URL || 'RongCloud (api.rong-api.com)'}`
      : 'RongCloud calls are logged as "rongcloud call (not sent)" lines (set RONGCLOUD_APP_KEY, RONGCLOUD_APP_SECRET, RONGCLOUD_API_URL to send them)';
    console.log(`Event bus (PutEvents) at ${pipeline.bus.endpoint}, bus ${process.env.LOCAL_BUS_NAME}; ${rongcloud}`);
    localEvents = pipeline;
    return async () => {
      await pipeline.stop();
      ddb.destroy();
    };
  },
};

let localEvents: LocalEvents | undefined;
let schedulerEndpoint: string | undefined;

/**
 * The scheduler, as EventBridge Scheduler in AWS: regular clear hourly, the janitor every 10
 * minutes (lib/routes.ts `schedules`). `LOCAL_SCHEDULER=off` keeps the timers off; the jobs still
 * run on request (`npm run regular-clear`, `npm run janitor`).
 */
const scheduler: Component = {
  name: 'scheduler',
  start: async () => {
    const { startLocalScheduler } = await import('./scheduler.ts');
    const { localJobs } = await import('./jobs.ts');
    if (!localEvents) throw new Error('the scheduler needs the event pipeline');
    const timers = process.env.LOCAL_SCHEDULER !== 'off';
    const jobs = localJobs(localEvents);
    const running = await startLocalScheduler({ jobs, dataDir, timers });
    schedulerEndpoint = running.endpoint;
    const periods = jobs.map((j) => `${j.name} every ${j.everyMs / 60_000} min`).join(', ');
    console.log(`Scheduler at ${running.endpoint}: ${timers ? periods : 'timers off (LOCAL_SCHEDULER=off)'}; run one now with npm run regular-clear / npm run janitor`);
    return running.stop;
  },
};

const gateway: Component = {
  name: 'gateway',
  start: async () => {
    // Imported after the env is set: nothing in the handler graph reads config before this point.
    const { createGateway } = await import('./gateway.ts');
    const server: Server = createGateway({ secret: loadSecret(dataDir) });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolveListen());
    });
    const address = server.address();
    actualPort = typeof address === 'object' && address ? address.port : port;
    console.log(`SealTalk group service listening on http://${host}:${actualPort}`);
    return () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
  },
};

// The events component sets AWS_ENDPOINT_URL_EVENTBRIDGE and LOCAL_BUS_NAME: the runtime file
// carries them, and `npm run token` publishes profiles on the bus. The scheduler needs the bus (the
// regular-clear chunks go through it).
const components: Component[] = [dynamodb, events, scheduler, gateway];

// --- stopping --------------------------------------------------------------------------------------

const stops: { name: string; stop: () => Promise<void> }[] = [];
let stopping = false;
let runtimeWritten = false;

const shutdown = async (code: number): Promise<never> => {
  if (!stopping) {
    stopping = true;
    // Whatever hangs, exit in time (the exit handlers of dynamodb.ts kill java on the way out).
    setTimeout(() => process.exit(code || 1), 8_000).unref();
    if (runtimeWritten) removeRuntime(actualPort);
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error(`stopping ${name} failed:`, error);
      }
    }
  }
  process.exit(code);
};

/** One clear line, then stop whatever already started. */
const fail = (component: string, error: unknown): Promise<never> => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') console.error(`Port ${port} on ${host} is already in use: stop the other process or set PORT=<another port>.`);
  else console.error(`${component} failed to start: ${error instanceof Error ? error.message : String(error)}`);
  return shutdown(1);
};

const stopBecause = (why: string): void => {
  if (stopping) return;
  console.log(`\n${why}: shutting down`);
  void shutdown(0);
};

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // second Ctrl-C: don't wait (java is killed on exit anyway)
    stopBecause(signal);
  });
}
process.on('exit', () => {
  if (runtimeWritten) removeRuntime(actualPort);
});
// A terminal that went away must not crash the shutdown with EIO/EPIPE on a log line.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh']);

/**
 * Stops when the npm that started us goes away. npm runs the script through `sh -c`: on SIGTERM,
 * npm forwards the signal to that shell, which dies without passing it on to us (our parent
 * changes); when npm is SIGKILLed, the shell lives on and only npm disappears. So: watch our
 * parent, and when it is such a shell, npm behind it. Not when run without npm (`node --import tsx
 * infra/local/start.ts &` may outlive the shell that started it, as any server).
 */
const watchNpm = (): void => {
  if (!process.env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const info = processInfo(parent);
  const npm = info && SHELLS.has(info.command) ? info.ppid : undefined;
  // With /proc, ask whether the shell's parent is still npm (a dead npm may linger as a zombie);
  // elsewhere, whether npm's pid still exists.
  const npmGone = existsSync('/proc/self/stat') ? () => processInfo(parent)?.ppid !== npm : () => npm !== undefined && !isAlive(npm);
  const timer = setInterval(() => {
    if (process.ppid !== parent) stopBecause(`parent process ${parent} exited`);
    else if (npm !== undefined && npm > 1 && npmGone()) stopBecause(`npm (pid ${npm}) exited`);
  }, 300);
  timer.unref();
};

// --- starting --------------------------------------------------------------------------------------

watchNpm();
if (port !== 0) await assertPortFree().catch((error: unknown) => fail('gateway', error));
for (const component of components) {
  const stop = await component.start().catch((error: unknown) => fail(component.name, error));
  stops.push({ name: component.name, stop });
}

if (!stopping) {
  const url = `http://${host}:${actualPort}`;
  try {
    writeRuntime({
      pid: process.pid,
      port: actualPort,
      url,
      dataDir,
      ...(secretFromEnv ? { secretFromEnv: true as const } : { secretFile: join(dataDir, SECRET_FILE) }),
      ...(javaPid !== undefined ? { javaPid } : {}),
      ...(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE ? { busEndpoint: process.env.AWS_ENDPOINT_URL_EVENTBRIDGE } : {}),
      ...(process.env.LOCAL_BUS_NAME ? { busName: process.env.LOCAL_BUS_NAME } : {}),
      ...(schedulerEndpoint ? { schedulerEndpoint } : {}),
    });
    runtimeWritten = true;
  } catch (error) {
    console.error(
      `warning: could not write ${runtimeFile(actualPort)} (${error instanceof Error ? error.message : String(error)}): ` +
        'npm run token will not find this server',
    );
  }
  const portPrefix = actualPort === DEFAULT_PORT ? '' : `PORT=${actualPort} `;
  console.log(
    `Try it: TOKEN=$(${portPrefix}npm run -s token -- alice --name Alice) && curl -H "Authorization: Bearer $TOKEN" ${url}/user/groups`,
  );
}
