/**
 * Structured JSON logs, one line per entry. Never log phone numbers or whole profiles: pass ids and
 * counts as fields.
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

const threshold = (): number => order[(process.env.LOG_LEVEL as Level | 'silent' | undefined) ?? 'info'] ?? order.info;

const serializeError = (value: unknown): unknown =>
  value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;

export const createLogger = (base: Fields = {}): Logger => {
  const write = (level: Level, message: string, fields: Fields = {}): void => {
    if (order[level] < threshold()) return;
    const entry: Fields = { level, time: new Date().toISOString(), message, ...base };
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
