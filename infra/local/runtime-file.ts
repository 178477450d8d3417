import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import * as z from 'zod';

/**
 * The runtime file: while `npm start` runs, it says what runs where, at a place that depends only
 * on the port (not on `DATA_DIR` or the working directory):
 * `<os.tmpdir()>/sealtalk-group-local/runtime-<port>.json`. `npm run token` reads it to sign with
 * the running server's secret and to publish profiles on its bus; tests read it for the pids.
 * Written once every component has started, removed on stop; a file whose `pid` is dead (the
 * server was SIGKILLed) is stale: readers ignore and remove it.
 */

// --- where: PORT and DATA_DIR ---------------------------------------------------------------------

export const DEFAULT_PORT = 3000;
export const DEFAULT_DATA_DIR = '.data';

const portNumber = z
  .string()
  .refine((value) => /^\d{1,5}$/.test(value) && Number(value) <= 65535, 'expected a port number 0-65535 (0: any free port)')
  .transform(Number);

/** `PORT` and `DATA_DIR`, read by `npm start` and `npm run token` (checked in local-config.ts). */
export const locationSchema = z.object({
  PORT: portNumber.optional().transform((port) => port ?? DEFAULT_PORT),
  DATA_DIR: z
    .string()
    .refine((dir) => dir.trim() !== '', 'expected a directory, got an empty value')
    .optional()
    .transform((dir) => resolve(dir ?? DEFAULT_DATA_DIR)),
});

export type Location = { port: number; dataDir: string };

/** `PORT` (default 3000) and the absolute `DATA_DIR` (default `.data`); throws one line on bad values. */
export const localLocation = (env: NodeJS.ProcessEnv): Location => {
  const parsed = locationSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { port: parsed.data.PORT, dataDir: parsed.data.DATA_DIR };
};

// --- the file ------------------------------------------------------------------------------------

const runtimeSchema = z.object({
  /** The `npm start` node process. */
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  /** `http://127.0.0.1:<port>`. */
  url: z.string(),
  /** Absolute `DATA_DIR`. */
  dataDir: z.string(),
  /** The file the server's token secret is in; absent when it came from `LOCAL_JWT_SECRET`. */
  secretFile: z.string().optional(),
  /** `true` when the server signs with `LOCAL_JWT_SECRET` from its environment. */
  secretFromEnv: z.literal(true).optional(),
  /** DynamoDB Local's JVM. */
  javaPid: z.number().int().positive().optional(),
  /** The local event bus (PutEvents endpoint and bus name), once it runs. */
  busEndpoint: z.string().optional(),
  busName: z.string().optional(),
  /** The local scheduler's endpoint (`POST /jobs/<name>/run`), once it runs. */
  schedulerEndpoint: z.string().optional(),
});

export type LocalRuntime = z.infer<typeof runtimeSchema>;

/** Evaluated on each call: `os.tmpdir()` follows `TMPDIR`. */
export const runtimeDir = (): string => join(tmpdir(), 'sealtalk-group-local');

export const runtimeFile = (port: number): string => join(runtimeDir(), `runtime-${port}.json`);

/** `kill -0`: true while the process exists (EPERM: it exists, but is someone else's). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Writes the file atomically (temp file + rename), readable by its owner only. Returns its path. */
export const writeRuntime = (runtime: LocalRuntime): string => {
  const file = runtimeFile(runtime.port);
  mkdirSync(runtimeDir(), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(runtimeSchema.parse(runtime), null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
  return file;
};

/** The live runtime on `port`, or `null`. Stale or unreadable files are removed on the way. */
export const readRuntime = (port: number): LocalRuntime | null => {
  const file = runtimeFile(port);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  let runtime: LocalRuntime | undefined;
  try {
    const parsed = runtimeSchema.safeParse(JSON.parse(text));
    if (parsed.success) runtime = parsed.data;
  } catch {
    // not JSON: treated as stale below
  }
  if (runtime && runtime.port === port && isAlive(runtime.pid)) return runtime;
  rmSync(file, { force: true });
  return null;
};

/** Removes the file of `port` if it is `pid`'s (never another server's). */
export const removeRuntime = (port: number, pid: number = process.pid): void => {
  const file = runtimeFile(port);
  try {
    const { pid: owner } = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    if (owner === pid) rmSync(file, { force: true });
  } catch {
    // missing or unreadable: nothing of ours to remove
  }
};

// --- processes -----------------------------------------------------------------------------------

/** The command line of every process: from `/proc` on Linux, else from `ps`; `[]` if neither works. */
const processTable = (): { pid: number; argv: string[] }[] => {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .flatMap((name) => {
        try {
          const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
          return argv.length > 0 ? [{ pid: Number(name), argv }] : [];
        } catch {
          return []; // exited meanwhile
        }
      });
  } catch {
    const ps = spawnSync('ps', ['-A', '-o', 'pid=,args='], { encoding: 'utf8', timeout: 5_000 });
    if (ps.status !== 0) return [];
    return ps.stdout.split('\n').flatMap((line) => {
      const match = /^\s*(\d+)\s+(.*)$/.exec(line);
      return match ? [{ pid: Number(match[1]), argv: (match[2] as string).split(' ') }] : [];
    });
  }
};

/** The pid of the DynamoDB Local JVM listening on `port` (not its watchdog shell), if found. */
export const findDynamoDbJava = (port: number): number | undefined =>
  processTable().find(
    ({ argv }) =>
      basename(argv[0] ?? '') === 'java' &&
      argv.some((arg) => arg.endsWith('DynamoDBLocal.jar')) &&
      argv.some((arg, i) => arg === '-port' && argv[i + 1] === String(port)),
  )?.pid;

/** `pid`'s parent and command name (from `/proc` on Linux, else `ps`), or `undefined`. */
export const processInfo = (pid: number): { ppid: number; command: string } | undefined => {
  try {
    // /proc/<pid>/stat: `pid (comm) state ppid ...`; comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    return { ppid, command: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    const ps = spawnSync('ps', ['-o', 'ppid=,comm=', '-p', String(pid)], { encoding: 'utf8', timeout: 5_000 });
    const match = ps.status === 0 ? /^\s*(\d+)\s+(.+?)\s*$/.exec(ps.stdout) : null;
    return match ? { ppid: Number(match[1]), command: basename(match[2] as string) } : undefined;
  }
};
