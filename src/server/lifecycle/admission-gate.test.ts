import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { isGatewayError } from '../../errors/gateway-error.js';
import { createMetrics } from '../../telemetry/metrics.js';
import { createAdmissionGate, GLOBAL_QUEUE } from './admission-gate.js';

function limits(overrides: Record<string, unknown>) {
  return loadConfig({
    env: {},
    overrides: Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`limits.${k}`, v])),
  }).limits;
}

async function counter(metrics: ReturnType<typeof createMetrics>, reason: string) {
  const values = (await metrics.shedTotal.get()).values;
  return values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

describe('createAdmissionGate', () => {
  it('admits max_inflight, queues max_queue, refuses the rest with 503 and Retry-After', async () => {
    const metrics = createMetrics({ collectProcessMetrics: false });
    const gate = createAdmissionGate({
      limits: limits({ max_inflight: 2, max_queue: 1, max_queue_wait: '5s' }),
      metrics,
      lagMs: () => 0,
    });
    const signal = new AbortController().signal;
    const first = await gate.admit(signal);
    await gate.admit(signal);
    const queued = gate.admit(signal);
    expect(
      (await metrics.queueDepth.get()).values.find((v) => v.labels.deployment === GLOBAL_QUEUE)?.value,
    ).toBe(1);
    const refused = await gate.admit(signal).catch((error: unknown) => error);
    expect(isGatewayError(refused) && refused.code).toBe('server_overloaded');
    expect(isGatewayError(refused) && refused.retryAfterSeconds).toBe(5);
    expect(await counter(metrics, 'queue_full')).toBe(1);
    first();
    await expect(queued).resolves.toBeTypeOf('function');
    expect(
      (await metrics.queueDepth.get()).values.find((v) => v.labels.deployment === GLOBAL_QUEUE)?.value,
    ).toBe(0);
  });

  it('refuses a request that waited past max_queue_wait', async () => {
    const metrics = createMetrics({ collectProcessMetrics: false });
    const gate = createAdmissionGate({
      limits: limits({ max_inflight: 1, max_queue: 5, max_queue_wait: '20ms' }),
      metrics,
      lagMs: () => 0,
    });
    const signal = new AbortController().signal;
    await gate.admit(signal);
    await expect(gate.admit(signal)).rejects.toMatchObject({ code: 'server_overloaded' });
    expect(await counter(metrics, 'queue_timeout')).toBe(1);
  });

  it('sheds every request while the event loop lags past shed_on_lag, and admits again after', async () => {
    const metrics = createMetrics({ collectProcessMetrics: false });
    let lag = 0;
    const gate = createAdmissionGate({ limits: limits({ shed_on_lag: '200ms' }), metrics, lagMs: () => lag });
    const signal = new AbortController().signal;
    await expect(gate.admit(signal)).resolves.toBeTypeOf('function');
    lag = 450;
    await expect(gate.admit(signal)).rejects.toMatchObject({
      code: 'server_overloaded',
      retryAfterSeconds: 1,
    });
    expect(await counter(metrics, 'event_loop_lag')).toBe(1);
    lag = 10;
    await expect(gate.admit(signal)).resolves.toBeTypeOf('function');
  });

  it('applies new limits on reload; requests admitted before release into their own gate', async () => {
    const metrics = createMetrics({ collectProcessMetrics: false });
    const gate = createAdmissionGate({ limits: limits({ max_inflight: 1 }), metrics, lagMs: () => 0 });
    const signal = new AbortController().signal;
    const old = await gate.admit(signal);
    await expect(gate.admit(signal)).rejects.toMatchObject({ code: 'server_overloaded' });
    gate.configure(limits({ max_inflight: 2 }));
    await gate.admit(signal);
    await gate.admit(signal);
    await expect(gate.admit(signal)).rejects.toMatchObject({ code: 'server_overloaded' });
    old();
  });
});
