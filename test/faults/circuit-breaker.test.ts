import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, fail, ok, startFakeUpstream } from './fake-upstream.js';
import { chatRequest, envelopeOf, startTestGantry, type TestGantry } from './fault-rig.js';

const COOLDOWN_MS = 800;
const OPEN = 1;
const CLOSED = 0;

describe('per-deployment circuit breaker', () => {
  let fragile: FakeUpstream;
  let sturdy: FakeUpstream;
  let lonely: FakeUpstream;
  let gantry: TestGantry;

  const circuit = (deployment: string) => gantry.metric(`gantry_circuit_state{deployment="${deployment}"}`);

  async function chat(model: string) {
    const response = await gantry.post('/v1/chat/completions', chatRequest(model));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    [fragile, sturdy, lonely] = await Promise.all([
      startFakeUpstream(),
      startFakeUpstream(),
      startFakeUpstream(),
    ]);
    gantry = await startTestGantry(`
app: { default_model: guarded }
routing:
  retry: { max_attempts: 1 }
  circuit_breaker: { consecutive_failures: 3, cooldown: ${COOLDOWN_MS}ms, min_requests: 100000 }
models:
  - alias: guarded
    deployments:
      - { id: fragile, provider: openai-compatible, model: up-model, base_url: "${fragile.baseUrl}" }
      - { id: sturdy, provider: openai-compatible, model: up-model, base_url: "${sturdy.baseUrl}" }
  - alias: alone
    deployments:
      - { id: lonely, provider: openai-compatible, model: up-model, base_url: "${lonely.baseUrl}" }
`);
  });
  afterAll(async () => {
    await gantry?.stop();
    await Promise.all([fragile, sturdy, lonely].map((upstream) => upstream?.close()));
  });
  beforeEach(() => {
    for (const upstream of [fragile, sturdy, lonely]) upstream.reset();
  });

  it('opens after consecutive failures, skips the broken deployment, and closes after a successful probe', async () => {
    expect(await circuit('fragile')).toBe(CLOSED);
    fragile.setDefault(fail(500, 'fragile is down'));
    for (let index = 0; index < 3; index++) expect((await chat('guarded')).status).toBe(200);
    expect(fragile.attempts).toHaveLength(3);
    expect(await circuit('fragile')).toBe(OPEN);

    // Open: requests go straight to the fallback without touching the broken upstream.
    for (let index = 0; index < 5; index++) expect((await chat('guarded')).status).toBe(200);
    expect(fragile.attempts).toHaveLength(3);
    expect(sturdy.attempts).toHaveLength(8);

    // After the cooldown one probe goes through; it fails, so the circuit opens again.
    await sleep(COOLDOWN_MS + 100);
    expect((await chat('guarded')).status).toBe(200);
    expect(fragile.attempts).toHaveLength(4);
    expect(await circuit('fragile')).toBe(OPEN);
    expect((await chat('guarded')).status).toBe(200);
    expect(fragile.attempts).toHaveLength(4);

    // The next probe succeeds and closes the circuit: traffic returns to the first deployment.
    fragile.setDefault(ok('fragile is back'));
    await sleep(COOLDOWN_MS + 100);
    const probe = await chat('guarded');
    expect(probe.status).toBe(200);
    expect(fragile.attempts).toHaveLength(5);
    expect(await circuit('fragile')).toBe(CLOSED);
    const sturdyBefore = sturdy.attempts.length;
    expect((await chat('guarded')).status).toBe(200);
    expect(fragile.attempts).toHaveLength(6);
    expect(sturdy.attempts).toHaveLength(sturdyBefore);
  });

  it('answers 503 no_healthy_deployment with Retry-After when every circuit of an alias is open', async () => {
    lonely.setDefault(fail(503, 'lonely is down'));
    for (let index = 0; index < 3; index++) expect((await chat('alone')).status).toBe(502);
    expect(await circuit('lonely')).toBe(OPEN);
    const response = await gantry.post('/v1/chat/completions', chatRequest('alone'));
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const error = envelopeOf(await response.json());
    expect(error.code).toBe('no_healthy_deployment');
    expect(lonely.attempts).toHaveLength(3);
  });

  it('does not count client errors (400) against the circuit', async () => {
    fragile.setDefault(fail(400, 'bad request from the client'));
    for (let index = 0; index < 5; index++) expect((await chat('guarded')).status).toBe(400);
    expect(await circuit('fragile')).toBe(CLOSED);
    expect(fragile.attempts).toHaveLength(5);
  });
});
