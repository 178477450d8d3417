import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * `vitest run` runs every suite in `tests/` except the benchmarks (`npm run bench`, plain scripts).
 *
 * One DynamoDB Local (in memory) per run, started by `tests/global-setup.ts` in the root project and
 * shared by every project through `provide`/`inject`; `tests/setup-env.ts` turns it into the env the
 * handlers read at import time. The global set-up skips Java entirely when no selected project needs
 * DynamoDB (`npm run test:unit`).
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const project = (name: string, testTimeout = 10_000): TestProjectInlineConfiguration => ({
  test: {
    name,
    include: [`tests/${name}/**/*.test.ts`],
    pool: 'forks',
    setupFiles: ['tests/setup-env.ts'],
    testTimeout,
    allowOnly: false,
  },
});

export default defineConfig({
  test: {
    globalSetup: ['tests/global-setup.ts'],
    allowOnly: false,
    // The suites wait on DynamoDB Local (one JVM) far more than they compute: four files at a time
    // keep it busy on a 2-core machine (about half the wall time of the default). Under that load a
    // race test can take several seconds, hence the 30 s timeouts of the DynamoDB projects.
    maxWorkers: 4,
    projects: [project('unit'), project('integration', 30_000), project('api', 30_000), project('infra', 60_000)],
  },
});
