import type { Counter } from 'prom-client';
import type { Config } from '../config/load.js';
import type { Admission, AdmissionRequest, ChatCache } from '../server/request-policy.js';
import type { Logger } from '../telemetry/logger.js';
import { cacheKey } from './cache-key.js';
import type { ResponseCache } from './response-cache.js';

export interface ChatCacheOptions {
  readonly config: Pick<Config, 'cache'>;
  /** Resolved per call: the Redis cache replaces the memory one once state has started. */
  readonly store: () => ResponseCache;
  readonly admitHit: (request: AdmissionRequest) => Admission;
  readonly requests: Counter<'result'>;
  readonly logger: Logger;
}

/**
 * Opt-in exact-match caching: aliases listed in `cache.models`, or any request sending
 * `x-gantry-cache: use`; `x-gantry-cache: bypass` skips it. A failing store never fails a request.
 */
export function createChatCache(options: ChatCacheOptions): ChatCache {
  const { config, requests, logger } = options;
  const optedIn = new Set(config.cache.models);
  return {
    async lookup({ principal, alias, request, header }) {
      const choice = header?.trim().toLowerCase();
      if (choice === 'bypass' || (choice !== 'use' && !optedIn.has(alias.alias))) return undefined;
      const scope = config.cache.shared ? undefined : (principal?.keyId ?? 'anonymous');
      const key = cacheKey(alias.alias, request, scope);
      const ttlMs = config.cache.ttl;
      try {
        const hit = await options.store().get(key);
        requests.inc({ result: hit ? 'hit' : 'miss' });
        return { key, ttlMs, hit };
      } catch (error) {
        requests.inc({ result: 'error' });
        logger.warn({ err: (error as Error).message }, 'response cache unavailable');
        return { key, ttlMs, hit: undefined };
      }
    },
    store(lookup, completion) {
      options
        .store()
        .set(lookup.key, completion, lookup.ttlMs)
        .catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'response not cached'));
    },
    admitHit: options.admitHit,
  };
}
