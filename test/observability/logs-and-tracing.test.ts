import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';

const MASTER_KEY = 'sk-master-0123456789-SECRET';
const PROMPT_MARKER = 'PROMPT-CANARY-7f3a9';

describe('logs, request ids and trace context', () => {
  let gantry: GantryProcess;

  beforeAll(async () => {
    gantry = await startGantry({
      env: { GANTRY_MASTER_KEY: MASTER_KEY, LOG_LEVEL: 'trace' },
      configYaml: `models:
  - alias: mock
    deployments: [{ id: mock/mock, provider: mock, model: mock }]
  - alias: slow
    deployments: [{ provider: mock, model: slow, mock: { words: 50, chunk_delay: 100ms } }]
`,
    });
  });
  afterAll(async () => {
    await gantry?.stop();
  });

  const headers = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };

  it('writes one access line per request with ids, route, model, status, latency and tokens', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${gantry.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        ...headers,
        'x-request-id': 'client-req-42',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: PROMPT_MARKER }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('client-req-42');
    const completion = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines = gantry
      .logs()
      .filter((line) => line.msg === 'request' && line.request_id === 'client-req-42');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      trace_id: traceId,
      route: '/v1/chat/completions',
      model: 'mock',
      deployment: 'mock/mock',
      status: 200,
      stream: false,
      retries: 0,
      fallback: false,
      tokens_out: 12,
    });
    expect(lines[0]!.latency_ms).toBeTypeOf('number');
    expect(lines[0]!.ttft_ms).toBeTypeOf('number');
    expect(lines[0]!.tokens_in).toBeGreaterThan(0);
    const output = gantry.output();
    expect(output).not.toContain(PROMPT_MARKER);
    expect(output).not.toContain(completion.choices[0]!.message.content);
    expect(output).not.toContain(MASTER_KEY);
  });

  it('generates a request id and a trace when none is sent, and replaces invalid ones', async () => {
    const response = await fetch(`${gantry.url}/v1/models`, {
      headers: { ...headers, 'x-request-id': 'bad id with spaces', traceparent: 'garbage' },
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^req_[0-9a-f]{32}$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const line = gantry.logs().find((entry) => entry.request_id === requestId)!;
    expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('never logs a rejected key', async () => {
    const response = await fetch(`${gantry.url}/v1/models`, {
      headers: { authorization: 'Bearer sk-wrong-CANARY-key' },
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { code: string; request_id: string } };
    expect(body.error.code).toBe('invalid_api_key');
    const requestId = response.headers.get('x-request-id');
    expect(body.error.request_id).toBe(requestId);
    // Absence only means something once this request's own access line has been written.
    await expect
      .poll(() => gantry.logs().some((line) => line.request_id === requestId), { timeout: 5_000 })
      .toBe(true);
    expect(gantry.output()).not.toContain('CANARY-key');
  });

  it('answers 405 with Allow for a known route (plugins included) and 404 for an unknown one', async () => {
    const auth = { authorization: headers.authorization };
    const wrongMethod = await fetch(`${gantry.url}/v1/conversations`, { method: 'PUT', headers: auth });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(((await wrongMethod.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    const modelPath = await fetch(`${gantry.url}/v1/models/org/model-name`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(modelPath.status).toBe(405);
    const unknown = await fetch(`${gantry.url}/v2/nothing`, { headers: auth });
    expect(unknown.status).toBe(404);
  });

  it('logs a request whose client left before the end as 499', async () => {
    const controller = new AbortController();
    const pending = fetch(`${gantry.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...headers, 'x-request-id': 'client-left-1' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      signal: controller.signal,
    });
    const response = await pending;
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const line = gantry.logs().find((entry) => entry.request_id === 'client-left-1');
    expect(line?.status).toBe(499);
  });

  it('keeps probes out of the access log', async () => {
    await fetch(`${gantry.url}/health`);
    await fetch(`${gantry.url}/ready`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gantry.logs().filter((line) => line.route === '/health' || line.route === '/ready')).toHaveLength(
      0,
    );
  });

  it('serves Prometheus metrics with the gantry_ prefix and process metrics', async () => {
    const text = await (await fetch(`${gantry.url}/metrics`)).text();
    for (const name of [
      'gantry_requests_total{model="mock",route="/v1/chat/completions",status="200"}',
      'gantry_request_duration_seconds_bucket',
      'gantry_ttft_seconds_bucket',
      'gantry_tokens_total{model="mock",type="completion"}',
      'gantry_inflight_requests',
      'gantry_circuit_state{deployment="mock/mock"} 0',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('publishes an OpenAPI 3.1 document of every endpoint', async () => {
    const document = (await (await fetch(`${gantry.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/',
        '/chat',
        '/health',
        '/metrics',
        '/openapi.json',
        '/ready',
        '/startup',
        '/v1/chat/completions',
        '/v1/conversations',
        '/v1/conversations/{id}',
        '/v1/conversations/{id}/items',
        '/v1/embeddings',
        '/v1/models',
        '/v1/models/{id}',
      ].sort(),
    );
  });
});
