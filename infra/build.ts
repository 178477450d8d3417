import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { BuildOptions as EsbuildOptions, Metafile } from 'esbuild';

/**
 * The bundler: ONE esbuild call over every `functions/*.ts`, producing
 * `dist/functions/<name>/index.mjs` (+ `.map`) per Lambda, which `infra/function.ts` packages with
 * `Code.fromAsset`. One call for all entry points is ~20x faster than `NodejsFunction`'s esbuild per
 * function. Everything is bundled, the AWS SDK included: Lambda's built-in SDK is a different
 * version from the one we pin and test with.
 *
 * Run with `npm run build`; `infra/app.ts` calls it before every synth that needs assets.
 */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const FUNCTIONS_SRC = join(ROOT, 'functions');
export const FUNCTIONS_DIST = join(ROOT, 'dist', 'functions');

/** ESM has no `require`, but bundled CommonJS dependencies may still call it (for Node built-ins). */
const REQUIRE_SHIM =
  "import { createRequire as __cjsRequire } from 'node:module'; const require = __cjsRequire(import.meta.url);";

/**
 * The esbuild options of every Lambda bundle (everything but the entry points and where they go).
 * Exported so that a comparison bundle (tests/bench/bundles.ts, tests/infra/build.test.ts: a
 * baseline handler that only reads DynamoDB) is built with exactly the same options.
 */
export const BUNDLE_OPTIONS = {
  absWorkingDir: ROOT,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // ESM builds of dependencies tree-shake better than their CommonJS `main`.
  mainFields: ['module', 'main'],
  minify: true,
  treeShaking: true,
  sourcemap: 'linked',
  // Stack traces only need the mappings (NODE_OPTIONS=--enable-source-maps); no sources copy.
  sourcesContent: false,
  banner: { js: REQUIRE_SHIM },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
} as const satisfies EsbuildOptions;

export interface BuiltFunction {
  readonly name: string;
  /** Absolute path of `index.mjs`. */
  readonly file: string;
  readonly bytes: number;
}

export interface BuildResult {
  readonly outdir: string;
  readonly functions: readonly BuiltFunction[];
  readonly metafile: Metafile;
}

export interface BuildOptions {
  /** Where the bundles go; `dist/functions` by default (tests use a temporary directory). */
  readonly outdir?: string;
}

/** The Lambda entry points: every `functions/*.ts` file, by name without the extension. */
export const functionEntryPoints = (): string[] =>
  readdirSync(FUNCTIONS_SRC)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => basename(file, '.ts'))
    .sort();

export const buildFunctions = async (options: BuildOptions = {}): Promise<BuildResult> => {
  const outdir = resolve(options.outdir ?? FUNCTIONS_DIST);
  const names = functionEntryPoints();
  // Start clean: a bundle of a deleted function must not linger and be deployed.
  rmSync(outdir, { recursive: true, force: true });

  const result = await build({
    ...BUNDLE_OPTIONS,
    entryPoints: Object.fromEntries(names.map((name) => [`${name}/index`, join(FUNCTIONS_SRC, `${name}.ts`)])),
    outdir,
  });

  const metaPath = join(outdir, 'meta.json');
  writeFileSync(metaPath, JSON.stringify(result.metafile));

  const functions = names.map((name): BuiltFunction => {
    const file = join(outdir, name, 'index.mjs');
    const output = result.metafile.outputs[relative(ROOT, file).split('\\').join('/')];
    if (!output) throw new Error(`esbuild produced no ${file}`);
    return { name, file, bytes: output.bytes };
  });
  return { outdir, functions, metafile: result.metafile };
};

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);

if (isMain) {
  const started = performance.now();
  const { outdir, functions } = await buildFunctions();
  const width = Math.max(...functions.map((f) => f.name.length));
  for (const f of functions) {
    const gzip = gzipSync(readFileSync(f.file)).length;
    console.log(`${f.name.padEnd(width)}  ${kib(f.bytes).padStart(10)}  (${kib(gzip)} gzip)`);
  }
  console.log(
    `${functions.length} functions -> ${relative(process.cwd(), outdir) || '.'} in ${Math.round(performance.now() - started)} ms` +
      ` (metafile: ${relative(process.cwd(), join(outdir, 'meta.json'))})`,
  );
}
