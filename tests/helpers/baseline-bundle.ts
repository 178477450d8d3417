import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS, ROOT } from '#infra/build.ts';

/**
 * The baseline of issue 10's bundle targets: `tests/bench/baseline-handler.ts` (a handler that only
 * reads DynamoDB through the document client), bundled with exactly the esbuild options of the
 * Lambdas (`BUNDLE_OPTIONS`, the same object `infra/build.ts` uses).
 */

export const BASELINE_ENTRY = join(ROOT, 'tests', 'bench', 'baseline-handler.ts');

/** Every function bundle at most this many times the baseline's size. */
export const SIZE_TARGET = 1.2;
/** Every function's cold import at most this many times the baseline's. */
export const COLD_IMPORT_TARGET = 1.15;

export interface BaselineBundle {
  /** Absolute path of `<outdir>/baseline/index.mjs`. */
  readonly file: string;
  readonly bytes: number;
}

export const buildBaseline = async (outdir: string): Promise<BaselineBundle> => {
  const result = await build({ ...BUNDLE_OPTIONS, entryPoints: { 'baseline/index': BASELINE_ENTRY }, outdir });
  const file = join(outdir, 'baseline', 'index.mjs');
  const output = result.metafile.outputs[relative(ROOT, file).split('\\').join('/')];
  if (!output) throw new Error(`esbuild produced no ${file}`);
  return { file, bytes: output.bytes };
};
