import type { Deployment } from '../../src/config/load.js';

/** A deployment as loadConfig would build it, with timeouts suited to loopback tests. */
export function testDeployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: `test/${overrides.provider ?? 'openai'}`,
    alias: 'test-model',
    provider: 'openai',
    model: 'test-model',
    baseUrl: undefined,
    apiKey: undefined,
    apiVersion: undefined,
    headers: {},
    weight: 1,
    maxConcurrency: undefined,
    queue: undefined,
    mock: undefined,
    price: undefined,
    ...overrides,
    timeouts: { connect: 2_000, first_byte: 5_000, idle: 5_000, total: 30_000, ...overrides.timeouts },
  };
}
