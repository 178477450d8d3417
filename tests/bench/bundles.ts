import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildFunctions } from '#infra/build.ts';

/**
 * Bundle sizes (raw and gzip) of every Lambda, and the cold import time of a handler bundle: the
 * median of fresh `node` processes importing it, against a bare `node -e 0` baseline.
 */

const RUNS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const timeNode = (args: string[]): number => {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const out = spawnSync(process.execPath, args, { env: { ...process.env, TABLE_NAME: 'bench', AWS_REGION: 'us-east-1' } });
    if (out.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${out.stderr.toString()}`);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
};

const outdir = mkdtempSync(join(tmpdir(), 'bundles-'));
try {
  const { functions } = await buildFunctions({ outdir });
  console.log('\nbundle sizes (minified ESM, AWS SDK included)');
  for (const f of functions) {
    const gz = gzipSync(readFileSync(f.file)).length;
    console.log(`  ${f.name.padEnd(28)} ${(f.bytes / 1024).toFixed(1).padStart(7)} KiB  gzip ${(gz / 1024).toFixed(1).padStart(6)} KiB`);
  }
  const create = functions.find((f) => f.name === 'group-create');
  if (create) {
    const bare = timeNode(['-e', '0']);
    const cold = timeNode(['--input-type=module', '-e', `await import(${JSON.stringify(create.file)})`]);
    console.log(`\ncold import of group-create: median ${cold.toFixed(0)} ms (bare node: ${bare.toFixed(0)} ms, import cost ${(cold - bare).toFixed(0)} ms; ${RUNS} runs)`);
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
