import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildFunctions } from '#infra/build.ts';
import { buildBaseline, COLD_IMPORT_TARGET, SIZE_TARGET } from '#tests/helpers/baseline-bundle.ts';
import { recordResults } from './results.ts';

/**
 * Bundles and cold starts (issue 10, "Proof"): every function bundled exactly as deployed
 * (infra/build.ts), next to the baseline handler that only imports the DynamoDB document client,
 * bundled with the same esbuild options (tests/helpers/baseline-bundle.ts). Per entry: raw and gzip
 * size and the ratio to the baseline's size; the cold import (the time `await import()` of the
 * bundle takes in a fresh `node` process, measured inside it) as the median of ROUNDS processes,
 * every entry once per round in a random order (interleaved, so drifting machine load hits all
 * entries alike), and its ratio to the baseline's median. Targets: size ≤ 1.2×, cold import ≤ 1.15×;
 * a row that misses one is marked. Also recorded, not judged: the whole fresh process (node's own
 * start-up included, as the parent sees it), which dilutes the import's difference. The figures go to
 * the `bundles` section of bench-results.json (run it alone on a quiet machine: other load inflates
 * the medians unevenly).
 *
 * `BENCH_BUNDLE_ROUNDS` (default 11) sets the rounds.
 */

const ROUNDS = Number(process.env.BENCH_BUNDLE_ROUNDS ?? 11);
const BASELINE = 'baseline';

/** What the handlers read at import (a table name, a region, the relay's bus); nothing is called. */
const CHILD_ENV: NodeJS.ProcessEnv = (() => {
  const { NODE_OPTIONS: _options, ...env } = process.env;
  return {
    ...env,
    TABLE_NAME: 'bench-bundles',
    AWS_REGION: 'us-east-1',
    EVENT_BUS_NAME: 'bench-bundles',
    LOG_LEVEL: 'silent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
})();

/** Runs in the fresh process: the import's duration in ms, on stdout. */
const IMPORT_TIMER = 'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';

/** One fresh process importing `file`: the import's ms (inside), and the whole process's ms (outside). */
const coldImport = (file: string): { importMs: number; processMs: number } => {
  const started = performance.now();
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', IMPORT_TIMER, pathToFileURL(file).href], { env: CHILD_ENV, encoding: 'utf8' });
  const processMs = performance.now() - started;
  if (out.status !== 0) throw new Error(`importing ${file} failed: ${out.stderr}`);
  const importMs = Number(out.stdout);
  if (!Number.isFinite(importMs)) throw new Error(`importing ${file} printed ${JSON.stringify(out.stdout)}`);
  return { importMs, processMs };
};

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const shuffled = <T>(xs: readonly T[]): T[] => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};

const kib = (bytes: number) => (bytes / 1024).toFixed(1);

const started = performance.now();
const outdir = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
try {
  const [{ functions }, baseline] = await Promise.all([buildFunctions({ outdir: join(outdir, 'functions') }), buildBaseline(join(outdir, 'base'))]);
  const entries = [{ name: BASELINE, file: baseline.file, bytes: baseline.bytes }, ...functions];

  const samples = new Map(entries.map((e) => [e.name, { importMs: [] as number[], processMs: [] as number[] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const entry of shuffled(entries)) {
      const { importMs, processMs } = coldImport(entry.file);
      samples.get(entry.name)?.importMs.push(importMs);
      samples.get(entry.name)?.processMs.push(processMs);
    }
  }

  const rows = entries.map((e) => {
    const gzipBytes = gzipSync(readFileSync(e.file)).length;
    const { importMs = [], processMs = [] } = samples.get(e.name) ?? {};
    return { name: e.name, bytes: e.bytes, gzipBytes, coldImportMs: median(importMs), processMs: median(processMs) };
  });
  const base = rows[0] as (typeof rows)[number];
  const measured = rows.slice(1).map((r) => {
    const sizeRatio = r.bytes / base.bytes;
    const coldImportRatio = r.coldImportMs / base.coldImportMs;
    const processRatio = r.processMs / base.processMs;
    return { ...r, sizeRatio, coldImportRatio, processRatio, sizeOk: sizeRatio <= SIZE_TARGET, coldImportOk: coldImportRatio <= COLD_IMPORT_TARGET };
  });

  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\nbundles (minified ESM, AWS SDK included) and cold imports: median of ${ROUNDS} fresh node processes per entry, interleaved`);
  const header = ['KiB', 'gzip', '× size', 'import ms', '× import', 'process ms', '× process'];
  const widths = header.map((h) => Math.max(h.length, 7));
  const line = (name: string, cells: string[], marks = '') =>
    `${name.padEnd(width)}  ${cells.map((c, i) => c.padStart(widths[i] ?? 7)).join('  ')}${marks ? `  ${marks}` : ''}`;
  console.log(line('entry', header));
  console.log(line(BASELINE, [kib(base.bytes), kib(base.gzipBytes), '1.00', base.coldImportMs.toFixed(1), '1.00', base.processMs.toFixed(1), '1.00']));
  for (const r of measured) {
    const marks = [r.sizeOk ? '' : `✗ size > ${SIZE_TARGET}×`, r.coldImportOk ? '' : `✗ import > ${COLD_IMPORT_TARGET}×`].filter(Boolean).join(', ');
    const cells = [kib(r.bytes), kib(r.gzipBytes), r.sizeRatio.toFixed(2), r.coldImportMs.toFixed(1), r.coldImportRatio.toFixed(2), r.processMs.toFixed(1), r.processRatio.toFixed(2)];
    console.log(line(r.name, cells, marks));
  }
  const sizeMisses = measured.filter((r) => !r.sizeOk).map((r) => r.name);
  const importMisses = measured.filter((r) => !r.coldImportOk).map((r) => r.name);
  console.log(
    `\nsize ≤ ${SIZE_TARGET}× baseline: ${measured.length - sizeMisses.length}/${measured.length}${sizeMisses.length ? ` (missed: ${sizeMisses.join(', ')})` : ''}` +
      `\ncold import ≤ ${COLD_IMPORT_TARGET}× baseline: ${measured.length - importMisses.length}/${measured.length}${importMisses.length ? ` (missed: ${importMisses.join(', ')})` : ''}` +
      `\n(${Math.round((performance.now() - started) / 1000)} s)`,
  );

  await recordResults('bundles', {
    rounds: ROUNDS,
    targets: { sizeRatio: SIZE_TARGET, coldImportRatio: COLD_IMPORT_TARGET },
    baseline: { bytes: base.bytes, gzipBytes: base.gzipBytes, coldImportMs: base.coldImportMs, processMs: base.processMs },
    functions: measured,
    misses: { size: sizeMisses, coldImport: importMisses },
  });
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
