import type { Provider } from '../../src/providers/contract.js';
import { createMockProvider } from '../../src/providers/mock/index.js';
import { mockWords, seedOf } from '../../src/providers/mock/mock-text.js';
import { type Harness, TEXT_REQUEST } from './harness.js';
import { testDeployment } from './test-deployment.js';

/** The mock through its real factory: no upstream, errors injected through the prompt. */
export function mockHarness(): Harness {
  const providers: Provider[] = [];
  const mockText = mockWords(seedOf('test-model', String(TEXT_REQUEST.messages[0]!.content)), 12).join(' ');
  return {
    name: 'mock',
    capabilities: {
      upstream: false,
      embeddings: true,
      // The mock relays an injected 401 as upstream_client_error 401 (see the providers report).
      authErrorMapping: true,
      // The mock's chat() only looks at the signal while it sleeps (ttft > 0).
      checksAbortBeforeStart: true,
    },
    expected: {
      text: mockText,
      usage: undefined,
      toolCalls: [{ name: 'get_weather', arguments: { location: 'mock', unit: 'celsius' } }],
      retryAfterSeconds: 1,
      errorMessages: {},
      errorParam: null,
      firstContentEvents: 0,
    },
    async start() {},
    async stop() {
      await Promise.all(providers.map((provider) => provider.close()));
    },
    upstream() {
      throw new Error('the mock has no upstream');
    },
    provider(overrides = {}) {
      const provider = createMockProvider(
        testDeployment({ id: 'contract/mock', provider: 'mock', ...overrides }),
      );
      providers.push(provider);
      return provider;
    },
    prepare(scenario, request) {
      const status = /^error-(\d{3})$/.exec(scenario)?.[1];
      if (status === undefined) return request;
      return {
        ...request,
        messages: [...request.messages, { role: 'user', content: `#mock-error=${status}` }],
      };
    },
    checkJsonRequest() {},
  };
}
