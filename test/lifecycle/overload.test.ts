import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import { type HttpResult, metricValue, send, waitFor, waitStarted } from './http-client.js';

const MAX_INFLIGHT = 4;
const MAX_QUEUE = 3;
const EXTRA = 5;

describe('global backpressure: limits.max_inflight and limits.max_queue (real process)', () => {
  let gantry: GantryProcess;
  beforeAll(async () => {
    gantry = await startGantry({
      configYaml: `
app: { default_model: slow }
models:
  - alias: slow
    deployments:
      - provider: mock
        model: slow-1
        mock: { ttft: 8s }
limits: { max_inflight: ${MAX_INFLIGHT}, max_queue: ${MAX_QUEUE}, max_queue_wait: 30s }
`,
    });
    await waitStarted(gantry.url);
  });
  afterAll(async () => {
    gantry?.child.kill('SIGKILL');
    await gantry?.exited;
  });

  it(`N+Q+k concurrent requests give exactly k immediate 503s with Retry-After`, async () => {
    const { url } = gantry;
    const order: Array<{ index: number; status: number }> = [];
    const total = MAX_INFLIGHT + MAX_QUEUE + EXTRA;
    const requests = Array.from({ length: total }, (_, index) =>
      send(`${url}/v1/chat/completions`, {
        body: { model: 'slow', messages: [{ role: 'user', content: `request ${index}` }] },
      }).then((result: HttpResult) => {
        order.push({ index, status: result.status });
        return result;
      }),
    );
    // A failed assertion must not leave the rest as unhandled rejections when the process is killed.
    for (const pending of requests) pending.catch(() => {});

    // While the admitted ones wait on the upstream, the metrics show the slots and the queue.
    const metrics = await waitFor(async () => {
      const text = (await send(`${url}/metrics`)).text;
      return metricValue(text, 'gantry_shed_requests_total', { reason: 'queue_full' }) === EXTRA
        ? text
        : undefined;
    }, 'the refusals');
    expect(metricValue(metrics, 'gantry_inflight_requests')).toBe(MAX_INFLIGHT);
    expect(metricValue(metrics, 'gantry_queue_depth', { deployment: '_global' })).toBe(MAX_QUEUE);
    expect(metricValue(metrics, 'gantry_shed_requests_total', { reason: 'queue_full' })).toBe(EXTRA);

    const results = await Promise.all(requests);
    const refused = results.filter((result) => result.status === 503);
    expect(refused).toHaveLength(EXTRA);
    expect(results.filter((result) => result.status === 200)).toHaveLength(MAX_INFLIGHT + MAX_QUEUE);
    for (const result of refused) {
      expect(Number(result.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(result.text).error.code).toBe('server_overloaded');
    }
    // Immediate: every refusal was answered before any admitted request finished.
    expect(order.slice(0, EXTRA).every((entry) => entry.status === 503)).toBe(true);

    const after = (await send(`${url}/metrics`)).text;
    expect(metricValue(after, 'gantry_queue_depth', { deployment: '_global' })).toBe(0);
    expect(metricValue(after, 'gantry_inflight_requests')).toBe(0);
    expect(metricValue(after, 'gantry_queue_wait_seconds_count', { deployment: '_global' })).toBe(MAX_QUEUE);
    // Probes bypass the gate: the process stayed observable while saturated.
    expect((await send(`${url}/health`)).status).toBe(200);
  });
});
