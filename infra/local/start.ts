import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { ensureJava } from './java.ts';
import { ensureTable, localClient, startDynamoDbLocal } from './dynamodb.ts';
import { loadSecret } from './tokens.ts';

/**
 * `npm start`: the whole service on one machine, offline. Components start in order and stop in
 * reverse; each is `{ name, start() → stop }`. The local event bus (outbox relay + notifier) and the
 * scheduler (regular clear) plug in as further components — see `components` below.
 */

interface Component {
  name: string;
  start(): Promise<() => Promise<void>>;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const dataDir = resolve(process.env.DATA_DIR || '.data');
const port = Number(process.env.PORT || 3000);
const host = '127.0.0.1';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${process.env.PORT}`);
  process.exit(1);
}

ensureJava('exit');
mkdirSync(dataDir, { recursive: true });

/** Fails before DynamoDB Local starts (and before a second one opens the same `-dbPath`). */
const assertPortFree = (): Promise<void> =>
  new Promise((resolveCheck, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolveCheck()));
  });

const dynamodb: Component = {
  name: 'dynamodb-local',
  start: async () => {
    const started = Date.now();
    const ddb = await startDynamoDbLocal({ dbPath: resolve(dataDir, 'dynamodb') });
    // The handlers read these at import time (they are imported lazily, on first request).
    process.env.AWS_ENDPOINT_URL_DYNAMODB = ddb.endpoint;
    process.env.TABLE_NAME ||= 'sealtalk-group-local';
    process.env.AWS_REGION ||= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ||= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
    const client = localClient(ddb.endpoint);
    try {
      await ensureTable(client, process.env.TABLE_NAME);
    } finally {
      client.destroy();
    }
    console.log(`DynamoDB Local ready at ${ddb.endpoint} (table ${process.env.TABLE_NAME}, data in ${dataDir}) in ${Date.now() - started} ms`);
    return ddb.stop;
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
    const actualPort = typeof address === 'object' && address ? address.port : port;
    console.log(`SealTalk group service listening on http://${host}:${actualPort}`);
    console.log(
      `Try it: TOKEN=$(npm run token -- alice --name Alice) && curl -H "Authorization: Bearer $TOKEN" http://${host}:${actualPort}/user/groups`,
    );
    return () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
  },
};

// Later: the local event bus and the scheduler go here, after dynamodb (they read its stream).
const components: Component[] = [dynamodb, gateway];

const stops: { name: string; stop: () => Promise<void> }[] = [];
let stopping = false;

const shutdown = async (code: number): Promise<never> => {
  if (!stopping) {
    stopping = true;
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

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // second Ctrl-C: don't wait (java is killed on exit anyway)
    console.log(`\n${signal}: shutting down`);
    void shutdown(0);
  });
}

if (port !== 0) await assertPortFree().catch((error: unknown) => fail('gateway', error));
for (const component of components) {
  const stop = await component.start().catch((error: unknown) => fail(component.name, error));
  stops.push({ name: component.name, stop });
}
