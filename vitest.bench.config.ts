import { defineConfig } from 'vitest/config';

/**
 * `npm run bench`: endpoint benchmarks on DynamoDB Local (started by the same global set-up as the
 * tests), then bundle sizes and cold-import times (tests/bench/bundles.ts). Not part of `npm test`.
 */
export default defineConfig({
  test: {
    name: 'bench',
    globalSetup: ['tests/global-setup.ts'],
    setupFiles: ['tests/setup-env.ts'],
    pool: 'forks',
    include: [],
    benchmark: { include: ['tests/bench/**/*.bench.ts'] },
  },
});
