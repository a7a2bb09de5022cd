import { randomUUID } from 'node:crypto';
import type { Counter } from 'prom-client';
import { GatewayError } from '../errors/gateway-error.js';
import type { KeyRecord } from '../keys/key-store.js';
import type { Principal } from '../server/authenticate.js';
import type { Admission, AdmissionRequest, RequestPolicy, Settlement } from '../server/request-policy.js';
import type { Logger } from '../telemetry/logger.js';
import { usageCost } from '../usage/usage-cost.js';
import type { UsageRecord } from '../usage/usage-store.js';
import type { BudgetTracker } from './budget-tracker.js';
import type { Limiter, LimitSpec, ReservationResult } from './limiter.js';

const MINUTE_MS = 60_000;

export interface RequestPolicyOptions {
  readonly limiter: Limiter;
  readonly budgets: BudgetTracker;
  /** Key records of virtual principals, left by the authenticator. */
  readonly records: WeakMap<Principal, KeyRecord>;
  readonly recordUsage: ((record: UsageRecord) => void) | undefined;
  readonly onStoreError: 'allow' | 'deny';
  readonly logger: Logger;
  readonly rateLimited: Counter<'limit'>;
  readonly budgetExceeded: Counter;
  readonly storeErrors: Counter;
}

/**
 * Per-key RPM/TPM and budgets before the upstream call, usage after it. Tokens are reserved up
 * front (prompt estimate + completion ceiling) and the reservation is replaced by the real count
 * when the request settles, so concurrency cannot push a key past its limit.
 */
export function createRequestPolicy(options: RequestPolicyOptions): RequestPolicy & {
  cacheHit(request: AdmissionRequest): Admission;
} {
  const { limiter, logger } = options;

  async function checkBudget(record: KeyRecord) {
    if (record.budgetUsd === null) return;
    const spent = await options.budgets.spent(record);
    if (spent >= record.budgetUsd) {
      options.budgetExceeded.inc();
      throw new GatewayError(
        'budget_exceeded',
        `This API key has used its ${record.budgetPeriod ?? 'total'} budget of $${record.budgetUsd}.`,
      );
    }
  }

  async function reserve(specs: LimitSpec[], reservationId: string): Promise<ReservationResult | undefined> {
    try {
      return await limiter.reserve(specs, reservationId);
    } catch (error) {
      options.storeErrors.inc();
      logger.warn(
        { err: (error as Error).message, on_store_error: options.onStoreError },
        'rate limit store unavailable',
      );
      if (options.onStoreError === 'deny') {
        throw new GatewayError(
          'service_unavailable',
          'Rate limits cannot be checked right now; retry shortly.',
          {
            cause: error,
            retryAfterSeconds: 1,
          },
        );
      }
      return undefined;
    }
  }

  function settler(request: AdmissionRequest, tokenSpec: LimitSpec | undefined, reservationId: string) {
    let settled = false;
    return (settlement: Settlement, cacheHit = false) => {
      if (settled) return;
      settled = true;
      const usage = settlement.usage;
      if (tokenSpec) {
        const used = usage ? usage.total_tokens : 0;
        limiter
          .adjust({ key: tokenSpec.key, cost: used, windowMs: tokenSpec.windowMs }, reservationId)
          .catch((error: unknown) =>
            logger.warn({ err: (error as Error).message }, 'token reservation not reconciled'),
          );
      }
      const deployment = request.alias.deployments.find((each) => each.id === settlement.deployment);
      options.recordUsage?.({
        id: randomUUID(),
        requestId: request.requestId,
        keyId: request.principal?.keyId ?? null,
        alias: request.alias.alias,
        deployment: settlement.deployment ?? null,
        upstreamModel: settlement.upstreamModel ?? null,
        promptTokens: usage?.prompt_tokens ?? 0,
        completionTokens: usage?.completion_tokens ?? 0,
        cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
        costUsd: cacheHit ? 0 : usageCost(deployment?.price, usage),
        latencyMs: settlement.latencyMs,
        ttftMs: settlement.ttftMs ?? null,
        status: settlement.status,
        cacheHit,
        createdAt: new Date(),
      });
    };
  }

  return {
    async admit(request: AdmissionRequest): Promise<Admission> {
      const record = request.principal ? options.records.get(request.principal) : undefined;
      // Only virtual keys carry limits: other callers need no reservation id.
      const reservationId = record ? randomUUID() : '';
      const headers: Record<string, string> = {};
      let tokenSpec: LimitSpec | undefined;
      if (record) {
        await checkBudget(record);
        const specs: LimitSpec[] = [];
        if (record.rpm)
          specs.push({ key: `rpm:${record.id}`, limit: record.rpm, cost: 1, windowMs: MINUTE_MS });
        if (record.tpm) {
          tokenSpec = {
            key: `tpm:${record.id}`,
            limit: record.tpm,
            cost: Math.max(1, Math.ceil(request.estimatedTokens)),
            windowMs: MINUTE_MS,
            adjustable: true,
          };
          specs.push(tokenSpec);
        }
        const result = specs.length > 0 ? await reserve(specs, reservationId) : undefined;
        if (!result) tokenSpec = undefined;
        if (result) {
          specs.forEach((spec, index) => {
            const kind = spec.key.startsWith('rpm:') ? 'requests' : 'tokens';
            const state = result.states[index]!;
            headers[`x-ratelimit-limit-${kind}`] = String(spec.limit);
            headers[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, spec.limit - state.used));
            headers[`x-ratelimit-reset-${kind}`] = `${Math.ceil(state.resetMs / 1000)}s`;
          });
          if (!result.allowed) {
            const limit = specs.find((spec, index) => result.states[index]!.used + spec.cost > spec.limit);
            const kind = limit?.key.startsWith('rpm:') ? 'requests' : 'tokens';
            options.rateLimited.inc({ limit: kind });
            throw new GatewayError(
              'rate_limit_exceeded',
              `Rate limit reached for ${kind} per minute on this API key (limit ${limit?.limit}, requested ${limit?.cost}).`,
              { retryAfterSeconds: Math.max(1, Math.ceil(result.retryAfterMs / 1000)) },
            );
          }
        }
      }
      const settle = settler(request, tokenSpec, reservationId);
      return { headers, settle: (settlement) => settle(settlement) };
    },
    /** Accounting for an answer served from the response cache (no limits charged, no cost). */
    cacheHit(request: AdmissionRequest): Admission {
      const settle = settler(request, undefined, randomUUID());
      return { headers: {}, settle: (settlement) => settle(settlement, true) };
    },
  };
}
