import { defineConfig } from 'vitest/config';

/**
 * The container suite (`npm run test:container`): builds the real Dockerfile and runs the image
 * and the Compose stack on a real Docker engine. One file at a time, tests in order, long timeouts:
 * builds and database start-ups take minutes on a 2-core machine.
 */
export default defineConfig({
  test: {
    include: ['test/container/**/*.test.ts'],
    globalSetup: ['test/container/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
