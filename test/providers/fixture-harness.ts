import type { Deployment } from '../../src/config/load.js';
import type { ProviderKind } from '../../src/config/schema.js';
import type { Provider } from '../../src/providers/contract.js';
import { type FakeUpstream, type Reply, startFakeUpstream } from './fake-upstream.js';
import type { Expected, Harness, Scenario } from './harness.js';
import { readFixture } from './read-fixture.js';
import { testDeployment } from './test-deployment.js';

const SSE = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

export const sse = (file: string): Reply => ({ headers: SSE, body: readFixture(file) });
export const json = (file: string, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: readFixture(file),
});

export const TEXT = 'Bonjour, ça va ? こんにちは！ 👋';
export const WEATHER_CALLS = [
  { name: 'get_weather', arguments: { location: 'Paris, France', unit: 'celsius' } },
  { name: 'get_weather', arguments: { location: 'Tokyo, Japan', unit: 'celsius' } },
];

export interface FixtureHarnessOptions {
  readonly name: string;
  readonly provider: ProviderKind;
  readonly create: (deployment: Deployment) => Provider;
  readonly baseUrl: (upstreamUrl: string) => string;
  /** The recorded answer per scenario; a missing `embeddings` means the adapter has none. */
  readonly replies: Readonly<Partial<Record<Scenario, Reply>>>;
  readonly expected: Expected;
  readonly checkJsonRequest: Harness['checkJsonRequest'];
}

/** A harness for an adapter that talks to the fake upstream replaying recorded fixtures. */
export function fixtureHarness(options: FixtureHarnessOptions): Harness {
  let upstream: FakeUpstream | undefined;
  const providers: Provider[] = [];
  const running = () => {
    if (!upstream) throw new Error(`${options.name} harness is not started`);
    return upstream;
  };
  return {
    name: options.name,
    capabilities: {
      upstream: true,
      embeddings: options.replies.embeddings !== undefined,
      authErrorMapping: true,
      checksAbortBeforeStart: true,
    },
    expected: options.expected,
    async start() {
      upstream = await startFakeUpstream();
    },
    async stop() {
      await upstream?.close();
      await Promise.all(providers.map((provider) => provider.close()));
    },
    upstream: running,
    provider(overrides = {}) {
      const provider = options.create(
        testDeployment({
          id: `contract/${options.name}`,
          provider: options.provider,
          baseUrl: options.baseUrl(running().url),
          apiKey: 'sk-test-0123456789',
          ...overrides,
        }),
      );
      providers.push(provider);
      return provider;
    },
    prepare(scenario, request, delivery = {}) {
      const reply = options.replies[scenario];
      if (reply === undefined) throw new Error(`${options.name} has no fixture for ${scenario}`);
      running().reply({ ...reply, ...delivery });
      return request;
    },
    checkJsonRequest: options.checkJsonRequest,
  };
}
