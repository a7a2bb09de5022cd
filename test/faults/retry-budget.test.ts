import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, fail, startFakeUpstream } from './fake-upstream.js';
import { chatRequest, envelopeOf, startTestGantry, type TestGantry } from './fault-rig.js';

// Without a budget, each request would make MAX_ATTEMPTS upstream attempts during an outage.
const MAX_ATTEMPTS = 3;
const RATIO = 0.1;
const MIN_PER_SECOND = 0.5;
const WINDOW_SECONDS = 30;
// The budget's floor: min_per_second retries for every second of the window.
const FLOOR = MIN_PER_SECOND * WINDOW_SECONDS;
const REQUESTS = 80;
const CONCURRENCY = 8;

describe('retry budget during a sustained outage', () => {
  let upstream: FakeUpstream;
  let gantry: TestGantry;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.setDefault(fail(503, 'service unavailable: outage'));
    gantry = await startTestGantry(`
app: { default_model: outage }
routing:
  retry:
    max_attempts: ${MAX_ATTEMPTS}
    base_delay: 1ms
    max_delay: 5ms
    budget: { ratio: ${RATIO}, min_per_second: ${MIN_PER_SECOND}, window: ${WINDOW_SECONDS}s }
  # The breaker would also shed load; it stays out of the way so the budget alone is measured.
  circuit_breaker: { consecutive_failures: 100000, min_requests: 100000 }
models:
  - alias: outage
    deployments:
      - { id: down, provider: openai-compatible, model: up-model, base_url: "${upstream.baseUrl}" }
`);
  });
  afterAll(async () => {
    await gantry?.stop();
    await upstream?.close();
  });

  it(`keeps upstream attempts within requests × (1 + ${RATIO}) + ${FLOOR}`, async () => {
    const statuses: number[] = [];
    let next = 0;
    async function worker() {
      while (next < REQUESTS) {
        next++;
        const response = await gantry.post('/v1/chat/completions', chatRequest('outage'));
        statuses.push(response.status);
        envelopeOf(await response.json());
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(statuses).toHaveLength(REQUESTS);
    expect(new Set(statuses)).toEqual(new Set([502]));
    const attempts = upstream.attempts.length;
    expect(attempts).toBeGreaterThan(REQUESTS);
    expect(attempts).toBeLessThanOrEqual(Math.floor(REQUESTS * (1 + RATIO) + FLOOR));
    expect(attempts).toBeLessThan(REQUESTS * MAX_ATTEMPTS);
    const denied = await gantry.metric('gantry_retries_denied_total');
    expect(denied).toBeGreaterThan(0);
    expect(await gantry.metric('gantry_retries_total{deployment="down"}')).toBe(attempts - REQUESTS);
  });
});
