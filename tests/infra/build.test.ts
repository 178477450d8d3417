import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctions, functionEntryPoints } from '#infra/build.ts';
import type { BuildResult } from '#infra/build.ts';
import { httpFunctions } from '#lib/routes.ts';
import { lambdaContext } from '#infra/local/gateway.ts';
import { httpEvent } from '#tests/helpers/lambda.ts';

const outdir = mkdtempSync(join(tmpdir(), 'infra-build-test-'));
let result: BuildResult;
beforeAll(async () => {
  result = await buildFunctions({ outdir });
}, 60_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const builtin = (path: string): boolean => path.startsWith('node:') || builtinModules.includes(path);

describe('the bundler', () => {
  it('bundles every functions/*.ts, including each function the routes need, into its own index.mjs', () => {
    expect(result.functions.map((f) => f.name)).toEqual(functionEntryPoints());
    expect(functionEntryPoints()).toEqual(expect.arrayContaining(httpFunctions()));
    for (const f of result.functions) {
      expect(f.file).toBe(join(outdir, f.name, 'index.mjs'));
      expect(f.bytes).toBeGreaterThan(0);
      expect(existsSync(`${f.file}.map`), `${f.name} source map`).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8'))).toEqual(result.metafile);
  });

  it('emits ESM with a require shim and a source map link', () => {
    for (const f of result.functions) {
      const code = readFileSync(f.file, 'utf8');
      expect(code.startsWith("import { createRequire as __cjsRequire } from 'node:module';"), f.name).toBe(true);
      expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'), f.name).toBe(true);
    }
  });

  it('externalizes nothing but Node built-ins (the AWS SDK is bundled)', () => {
    for (const [file, output] of Object.entries(result.metafile.outputs)) {
      const external = output.imports.filter((i) => i.external).map((i) => i.path);
      expect(external.filter((path) => !builtin(path)), file).toEqual([]);
    }
  });

  it('produces a bundle Lambda can call', async () => {
    const bundle = join(outdir, 'group-get', 'index.mjs');
    type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
    const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
    // An id that cannot be a group: answered by the bundled stack without reaching DynamoDB.
    const reply = await handler(httpEvent('GET', '/group/not-a-group!', { as: 'bundle-user' }), lambdaContext('group-get'));
    expect(reply.statusCode).toBe(404);
    expect(JSON.parse(reply.body)).toEqual({ code: 404, message: 'Unknown group.' });
  });
});
