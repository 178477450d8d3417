import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `bench-results.json` at the repository root: one section per benchmark script, each replaced
 * whole when its script runs, so `npm run bench` rewrites the file section by section and a single
 * script (`node --import tsx tests/bench/bundles.ts`) refreshes only its own figures. The README's
 * tables are read from this file.
 */

export const RESULTS_FILE = fileURLToPath(new URL('../../bench-results.json', import.meta.url));

export interface Machine {
  readonly node: string;
  readonly cpus: number;
  readonly platform: string;
}

export const machine = async (): Promise<Machine> => {
  const os = await import('node:os');
  return { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` };
};

/** Replaces `section` of bench-results.json with `data` (plus when and where it was measured). */
export const recordResults = async (section: string, data: unknown): Promise<void> => {
  const current = existsSync(RESULTS_FILE) ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>) : {};
  current[section] = { measuredAt: new Date().toISOString(), machine: await machine(), ...(data as object) };
  const sorted = Object.fromEntries(Object.entries(current).sort(([a], [b]) => a.localeCompare(b)));
  const tmp = `${RESULTS_FILE}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
  renameSync(tmp, RESULTS_FILE);
};

/** One row of the `scale` section (tests/bench/scale.ts writes it, report.ts renders it). */
export interface ScaleRow {
  operation: string;
  requestMs: number;
  consistentMs: number;
  roundTrips: number;
  transactions: number;
  readUnits: number;
  writeUnits: number;
  check: string;
}
