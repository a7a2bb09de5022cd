import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/container/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Many suites spawn real gateways, upstreams and load; on a 2-core machine, files run one at a
    // time so timing-sensitive checks (drain, probes) are not starved by another file's load.
    fileParallelism: false,
  },
});
