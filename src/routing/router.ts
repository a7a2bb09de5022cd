import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, Deployment, ModelAlias } from '../config/load.js';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import type { CallContext, Provider, ProviderFactory } from '../providers/contract.js';
import { createProvider } from '../providers/create-provider.js';
import type {
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
} from '../providers/openai-types.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { backoffDelay } from './backoff.js';
import { type CircuitBreaker, type CircuitState, createCircuitBreaker } from './circuit-breaker.js';
import { type ConcurrencyGate, createConcurrencyGate } from './concurrency-gate.js';
import { createRetryBudget } from './retry-budget.js';
import { selectDeployments } from './select-deployments.js';

/** What happened while routing one request, for access logs and metrics. */
export interface RouteInfo {
  deployment: string | undefined;
  upstreamModel: string | undefined;
  attempts: number;
  retries: number;
  fallback: boolean;
}

export interface RouteContext {
  readonly signal: AbortSignal;
  readonly requestId: string;
  readonly traceparent: string | undefined;
  readonly info: RouteInfo;
}

/** An upstream call that is still open (a stream); `finish` must be called exactly once. */
export interface OpenCall<T> {
  readonly value: T;
  readonly deployment: Deployment;
  /** Aborted when the call's total timeout fires or the client goes away. */
  readonly signal: AbortSignal;
  finish(error?: unknown): void;
}

interface DeploymentState {
  readonly deployment: Deployment;
  readonly provider: Provider;
  readonly breaker: CircuitBreaker;
  readonly gate: ConcurrencyGate | undefined;
  inflight: number;
}

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, 'half-open': 2 };

export function newRouteInfo(): RouteInfo {
  return { deployment: undefined, upstreamModel: undefined, attempts: 0, retries: 0, fallback: false };
}

/** Whether a failed attempt may be followed by a call to the next deployment of the alias. */
function canFallBack(error: unknown): boolean {
  return isGatewayError(error) && (error.retryable || error.code === 'upstream_auth_error');
}

/** Whether the failure says something about the upstream's health (client mistakes do not). */
function countsAgainstCircuit(error: unknown): boolean {
  return (
    isGatewayError(error) &&
    (error.code.startsWith('timeout_') ||
      (error.code.startsWith('upstream_') && error.code !== 'upstream_client_error'))
  );
}

/**
 * The router: picks deployments for an alias, calls them with per-deployment concurrency limits,
 * circuit breakers and timeouts, retries retryable failures with backoff under a global retry
 * budget, and falls back to the next deployment when a deployment is exhausted.
 */
export function createRouter(
  config: Config,
  dependencies: { metrics: Metrics; logger: Logger; providerFactory?: ProviderFactory },
) {
  const { metrics, logger } = dependencies;
  const providerFactory = dependencies.providerFactory ?? createProvider;
  const { retry, circuit_breaker: circuit } = config.routing;
  const aliases = new Map<string, ModelAlias>(config.models.map((model) => [model.alias, model]));
  const states = new Map<string, DeploymentState>();
  const budget = createRetryBudget({
    ratio: retry.budget.ratio,
    minPerSecond: retry.budget.min_per_second,
    windowMs: retry.budget.window,
  });

  for (const model of config.models) {
    for (const deployment of model.deployments) {
      metrics.circuitState.set({ deployment: deployment.id }, 0);
      states.set(deployment.id, {
        deployment,
        provider: providerFactory(deployment),
        inflight: 0,
        breaker: createCircuitBreaker({
          consecutiveFailures: circuit.consecutive_failures,
          errorRate: circuit.error_rate,
          minRequests: circuit.min_requests,
          windowMs: circuit.window,
          cooldownMs: circuit.cooldown,
          onStateChange: (state) => {
            metrics.circuitState.set({ deployment: deployment.id }, CIRCUIT_VALUE[state]);
            logger.warn({ deployment: deployment.id, circuit: state }, 'circuit state changed');
          },
        }),
        gate:
          deployment.maxConcurrency === undefined
            ? undefined
            : createConcurrencyGate({
                limit: deployment.maxConcurrency,
                maxQueue: deployment.queue?.maxLength ?? 100,
                maxWaitMs: deployment.queue?.maxWaitMs ?? 10_000,
                onQueueChange: (depth) => metrics.queueDepth.set({ deployment: deployment.id }, depth),
                onWaited: (seconds) => metrics.queueWait.observe({ deployment: deployment.id }, seconds),
              }),
      });
    }
  }

  function resolveAlias(name: string): ModelAlias {
    const alias = aliases.get(name);
    if (!alias) {
      throw new GatewayError(
        'model_not_found',
        `The model \`${name}\` does not exist or you do not have access to it.`,
        {
          param: 'model',
        },
      );
    }
    return alias;
  }

  /** One attempt on one deployment: concurrency slot, timers, breaker bookkeeping. */
  async function attempt<T>(
    state: DeploymentState,
    context: RouteContext,
    call: (provider: Provider, callContext: CallContext) => Promise<T>,
  ): Promise<OpenCall<T>> {
    const { deployment } = state;
    const release = state.gate ? await state.gate.acquire(context.signal) : undefined;
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(context.signal.reason);
    context.signal.addEventListener('abort', onClientAbort, { once: true });
    const totalTimer = setTimeout(
      () =>
        controller.abort(
          new GatewayError(
            'timeout_total',
            `upstream ${deployment.id} exceeded the total timeout of ${deployment.timeouts.total} ms`,
          ),
        ),
      deployment.timeouts.total,
    );
    state.inflight++;
    let finished = false;
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(totalTimer);
      context.signal.removeEventListener('abort', onClientAbort);
      state.inflight--;
      release?.();
      if (error === undefined) state.breaker.onSuccess();
      else if (context.signal.aborted && !isGatewayError(error)) state.breaker.onAbandon();
      else if (countsAgainstCircuit(error)) {
        state.breaker.onFailure();
        metrics.upstreamErrors.inc({ deployment: deployment.id, kind: (error as GatewayError).code });
      } else state.breaker.onAbandon();
    };
    try {
      const value = await call(state.provider, {
        signal: controller.signal,
        requestId: context.requestId,
        traceparent: context.traceparent,
      });
      return { value, deployment, signal: controller.signal, finish };
    } catch (error) {
      const reason = controller.signal.aborted && !context.signal.aborted ? controller.signal.reason : error;
      finish(reason);
      throw reason;
    }
  }

  /** Runs `call` over the alias's deployments with retries, budget, breakers and fallback. */
  async function execute<T>(
    aliasName: string,
    context: RouteContext,
    call: (provider: Provider, callContext: CallContext, deployment: Deployment) => Promise<T>,
  ): Promise<OpenCall<T>> {
    const alias = resolveAlias(aliasName);
    // A request that arrives already aborted (client gone, drain deadline passed) calls nobody.
    context.signal.throwIfAborted();
    const { info } = context;
    budget.recordRequest();
    const ordered = selectDeployments(alias, (deployment) => states.get(deployment.id)!.inflight);
    let lastError: unknown;
    let tried = 0;
    for (const deployment of ordered) {
      const state = states.get(deployment.id)!;
      if (!state.breaker.tryAcquire()) continue;
      if (tried > 0) {
        info.fallback = true;
        metrics.fallbacksTotal.inc({ model: alias.alias });
      }
      tried++;
      info.deployment = deployment.id;
      info.upstreamModel = deployment.model;
      for (let attemptNumber = 1; ; attemptNumber++) {
        if (attemptNumber > 1) {
          // A half-open circuit lets one probe through; once it failed, the breaker decides again.
          if (state.breaker.state === 'open') break;
        }
        info.attempts++;
        try {
          return await attempt(state, context, (provider, callContext) =>
            call(provider, callContext, deployment),
          );
        } catch (error) {
          lastError = error;
          if (context.signal.aborted) throw context.signal.reason ?? error;
          if (!isGatewayError(error) || !error.retryable || error.code === 'timeout_total') break;
          if (attemptNumber >= retry.max_attempts) break;
          // An upstream asking for a long pause is better served by the next deployment, or by
          // telling the client (429 + Retry-After), than by holding the request open that long.
          if ((error.retryAfterSeconds ?? 0) * 1000 > retry.max_retry_after) break;
          if (!budget.tryAcquire()) {
            metrics.retriesDenied.inc();
            break;
          }
          const delay = backoffDelay(
            attemptNumber,
            retry.base_delay,
            retry.max_delay,
            error.retryAfterSeconds,
          );
          if (delay > deployment.timeouts.total) break;
          info.retries++;
          metrics.retriesTotal.inc({ deployment: deployment.id });
          logger.debug({ deployment: deployment.id, code: error.code, delay }, 'retrying upstream call');
          // Aborted mid-backoff: surface the signal's reason (client gone, or the drain's 503), not
          // the timer's generic AbortError.
          await sleep(delay, undefined, { signal: context.signal }).catch(() => {
            throw context.signal.reason ?? error;
          });
          if (!state.breaker.tryAcquire()) break;
        }
      }
      if (!canFallBack(lastError)) break;
    }
    if (lastError !== undefined) throw lastError;
    throw new GatewayError(
      'no_healthy_deployment',
      `no healthy deployment for model ${alias.alias}: every circuit is open; retry shortly`,
      { retryAfterSeconds: Math.max(1, Math.ceil(circuit.cooldown / 1000)) },
    );
  }

  return {
    resolveAlias,
    aliases: (): readonly ModelAlias[] => config.models,
    /** Circuit state per deployment, for readiness. */
    circuitStates: () =>
      [...states.values()].map((state) => ({ id: state.deployment.id, state: state.breaker.state })),
    isAliasAvailable: (name: string) =>
      resolveAlias(name).deployments.some(
        (deployment) => states.get(deployment.id)!.breaker.state !== 'open',
      ),

    async chat(aliasName: string, request: ChatCompletionRequest, context: RouteContext) {
      const open = await execute(aliasName, context, (provider, callContext, deployment) =>
        provider.chat({ ...request, model: deployment.model }, callContext),
      );
      open.finish();
      return open.value;
    },

    /**
     * Opens a stream: resolves only once the first chunk has arrived, so failures before the first
     * token are still retried or sent to the next deployment. The caller must call `finish`.
     */
    chatStream(aliasName: string, request: ChatCompletionRequest, context: RouteContext) {
      return execute(aliasName, context, async (provider, callContext, deployment) => {
        const iterator = provider
          .chatStream({ ...request, model: deployment.model }, callContext)
          [Symbol.asyncIterator]();
        const first = await iterator.next();
        if (first.done) {
          throw new GatewayError(
            'upstream_bad_response',
            `upstream ${deployment.id} ended the stream before any chunk`,
          );
        }
        return { first: first.value as ChatCompletionChunk, iterator };
      });
    },

    async embed(aliasName: string, request: EmbeddingRequest, context: RouteContext) {
      const open = await execute(aliasName, context, (provider, callContext, deployment) =>
        provider.embed({ ...request, model: deployment.model }, callContext),
      );
      open.finish();
      return open.value;
    },

    async close() {
      await Promise.allSettled([...states.values()].map((state) => state.provider.close()));
    },
  };
}

export type Router = ReturnType<typeof createRouter>;
