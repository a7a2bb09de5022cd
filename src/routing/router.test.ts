import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Provider } from '../providers/contract.js';
import type { ChatCompletion, ChatCompletionChunk } from '../providers/openai-types.js';
import { createMetrics } from '../telemetry/metrics.js';
import { createRouter, newRouteInfo } from './router.js';

/** What a scripted deployment does on one call: answer, or throw. */
type Step = 'ok' | GatewayError;

const completion = (deployment: string): ChatCompletion =>
  ({
    id: 'c',
    object: 'chat.completion',
    created: 0,
    model: deployment,
    choices: [{ index: 0, message: { role: 'assistant', content: deployment }, finish_reason: 'stop' }],
  }) as ChatCompletion;

const chunk = (content: string) =>
  ({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta: { content } }],
  }) as unknown as ChatCompletionChunk;

function setup(yaml: string, scripts: Record<string, Step[]>) {
  const config = loadConfig({ env: {}, file: 'router-test.yaml', fileText: yaml });
  const calls: Record<string, number> = {};
  const next = (id: string): Step => {
    calls[id] = (calls[id] ?? 0) + 1;
    return scripts[id]?.shift() ?? 'ok';
  };
  const metrics = createMetrics({ collectProcessMetrics: false });
  const router = createRouter(config, {
    metrics,
    logger: pino({ level: 'silent' }),
    providerFactory: (deployment): Provider => ({
      id: deployment.id,
      async chat() {
        const step = next(deployment.id);
        if (step !== 'ok') throw step;
        return completion(deployment.id);
      },
      async *chatStream() {
        const step = next(deployment.id);
        if (step !== 'ok') throw step;
        yield chunk(deployment.id);
      },
      async embed() {
        throw new Error('not scripted');
      },
      async close() {},
    }),
  });
  const context = (signal = new AbortController().signal) => ({
    signal,
    requestId: 'req_test',
    traceparent: undefined,
    info: newRouteInfo(),
  });
  return { router, calls, context, metrics };
}

const request = { model: 'a', messages: [{ role: 'user' as const, content: 'hi' }] };
const upstream500 = () => new GatewayError('upstream_error', 'boom', { retryable: true });
const rateLimited = (seconds: number) =>
  new GatewayError('upstream_rate_limited', 'slow down', { retryAfterSeconds: seconds });

const TWO = (retry: string, breaker = 'consecutive_failures: 100') => `
routing:
  retry: { ${retry} }
  circuit_breaker: { ${breaker} }
models:
  - alias: a
    deployments:
      - { id: one, provider: mock, model: m }
      - { id: two, provider: mock, model: m }
app: { default_model: a }
`;

describe('router', () => {
  it('retries a retryable failure on the same deployment', async () => {
    const { router, calls, context } = setup(TWO('max_attempts: 3, base_delay: 1ms'), {
      one: [upstream500()],
    });
    const routeContext = context();
    const answer = await router.chat('a', request, routeContext);
    expect(answer.model).toBe('one');
    expect(calls).toEqual({ one: 2 });
    expect(routeContext.info).toMatchObject({ attempts: 2, retries: 1, fallback: false, deployment: 'one' });
  });

  it('neither retries nor falls back on a client error', async () => {
    const clientError = new GatewayError('upstream_client_error', 'bad', { status: 400 });
    const { router, calls, context } = setup(TWO('max_attempts: 3'), { one: [clientError] });
    await expect(router.chat('a', request, context())).rejects.toBe(clientError);
    expect(calls).toEqual({ one: 1 });
  });

  it('falls back once the attempts on a deployment are spent', async () => {
    const { router, calls, context, metrics } = setup(TWO('max_attempts: 2, base_delay: 1ms'), {
      one: [upstream500(), upstream500()],
    });
    const routeContext = context();
    expect((await router.chat('a', request, routeContext)).model).toBe('two');
    expect(calls).toEqual({ one: 2, two: 1 });
    expect(routeContext.info.fallback).toBe(true);
    expect((await metrics.fallbacksTotal.get()).values[0]?.value).toBe(1);
  });

  it('waits for a short Retry-After before retrying', async () => {
    const { router, calls, context } = setup(TWO('max_attempts: 2, base_delay: 1ms'), {
      one: [rateLimited(0.2)],
    });
    const startedAt = performance.now();
    expect((await router.chat('a', request, context())).model).toBe('one');
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(190);
    expect(calls).toEqual({ one: 2 });
  });

  it('falls back at once, rather than wait, when Retry-After exceeds max_retry_after', async () => {
    const { router, calls, context } = setup(TWO('max_attempts: 3, max_retry_after: 1s'), {
      one: [rateLimited(30)],
    });
    const startedAt = performance.now();
    expect((await router.chat('a', request, context())).model).toBe('two');
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(calls).toEqual({ one: 1, two: 1 });
  });

  it('relays a long Retry-After when no deployment is left', async () => {
    const { router, context } = setup(TWO('max_attempts: 3, max_retry_after: 1s'), {
      one: [rateLimited(30)],
      two: [rateLimited(30)],
    });
    await expect(router.chat('a', request, context())).rejects.toMatchObject({
      code: 'upstream_rate_limited',
      retryAfterSeconds: 30,
    });
  });

  it('does not retry once the retry budget is spent', async () => {
    const { router, calls, context, metrics } = setup(
      TWO('max_attempts: 3, base_delay: 1ms, budget: { ratio: 0, min_per_second: 0 }'),
      { one: [upstream500(), upstream500()], two: [upstream500()] },
    );
    await expect(router.chat('a', request, context())).rejects.toMatchObject({ code: 'upstream_error' });
    expect(calls).toEqual({ one: 1, two: 1 });
    expect((await metrics.retriesDenied.get()).values[0]?.value).toBe(2);
  });

  it('skips a deployment whose circuit is open, and answers 503 when every circuit is open', async () => {
    const { router, calls, context } = setup(
      TWO('max_attempts: 1', 'consecutive_failures: 2, cooldown: 60s'),
      {
        one: [upstream500(), upstream500()],
        two: ['ok', upstream500(), upstream500()],
      },
    );
    expect((await router.chat('a', request, context())).model).toBe('two');
    await expect(router.chat('a', request, context())).rejects.toMatchObject({ code: 'upstream_error' });
    expect(router.circuitStates()).toEqual([
      { id: 'one', state: 'open' },
      { id: 'two', state: 'closed' },
    ]);
    await expect(router.chat('a', request, context())).rejects.toMatchObject({ code: 'upstream_error' });
    const refusal = router.chat('a', request, context());
    await expect(refusal).rejects.toMatchObject({ code: 'no_healthy_deployment', status: 503 });
    expect(calls).toEqual({ one: 2, two: 3 });
  });

  it('stops at once with the signal reason when the client goes away during a backoff', async () => {
    const { router, calls, context } = setup(TWO('max_attempts: 3, max_retry_after: 60s'), {
      one: [rateLimited(30)],
    });
    const client = new AbortController();
    const pending = router.chat('a', request, context(client.signal));
    setTimeout(() => client.abort(new Error('client left')), 50);
    await expect(pending).rejects.toThrow('client left');
    expect(calls).toEqual({ one: 1 });
  });

  it('retries and falls back for streams that fail before their first chunk', async () => {
    const { router, calls, context } = setup(TWO('max_attempts: 2, base_delay: 1ms'), {
      one: [upstream500(), new GatewayError('upstream_bad_response', 'error in first chunk')],
    });
    const handle = await router.chatStream('a', request, context());
    expect(handle.value.first.choices[0]).toMatchObject({ delta: { content: 'two' } });
    handle.finish();
    expect(calls).toEqual({ one: 2, two: 1 });
  });

  it('answers 404 model_not_found for an unknown alias', () => {
    const { router } = setup(TWO('max_attempts: 1'), {});
    expect(() => router.resolveAlias('nope')).toThrow(
      expect.objectContaining({ code: 'model_not_found', param: 'model' }),
    );
  });
});
