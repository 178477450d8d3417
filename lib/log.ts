import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Structured JSON logs, one line per entry. Never log phone numbers or whole profiles: pass ids and
 * counts as fields.
 *
 * Lines are written with `process.stdout.write`, not `console.*`: the Lambda Node.js runtime
 * replaces the `console` methods (text format: a `time\trequestId\tLEVEL\t` prefix; JSON format: the
 * whole line becomes the string `message` of its own JSON object, and methods below the function's
 * application log level become no-ops), but passes raw stdout lines through unchanged. So each of
 * these lines stays one JSON object in CloudWatch whatever the function's log format, and carries
 * its own request id: `awsRequestId` from the invocation context (`withLogContext`, set by the
 * wrappers in lib/metrics.ts and the HTTP stack) on every line written during an invocation.
 */

type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

/**
 * The fields of the invocation in progress (`awsRequestId`, `function`). In Lambda a container runs
 * one invocation at a time, so a module-level "current invocation" would do; AsyncLocalStorage is
 * used instead because the local runtime (infra/local) and the tests run several handlers of one
 * process at once, and each must keep its own id.
 */
const invocation = new AsyncLocalStorage<Fields>();

/** Runs `run` with `fields` on every log line written inside it (awaited work included). */
export const withLogContext = <T>(fields: Fields, run: () => T): T => invocation.run(fields, run);

/** The current invocation's log fields, or undefined outside an invocation. */
export const logContext = (): Fields | undefined => invocation.getStore();

const threshold = (): number => order[(process.env.LOG_LEVEL as Level | 'silent' | undefined) ?? 'info'] ?? order.info;

const serializeError = (value: unknown): unknown =>
  value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;

export const createLogger = (base: Fields = {}): Logger => {
  const write = (level: Level, message: string, fields: Fields = {}): void => {
    if (order[level] < threshold()) return;
    const entry: Fields = { level, time: new Date().toISOString(), message, ...invocation.getStore(), ...base };
    for (const [k, v] of Object.entries(fields)) entry[k] = serializeError(v);
    process.stdout.write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
};

export const logger = createLogger({ service: 'sealtalk-group' });
