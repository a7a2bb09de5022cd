import { GatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../telemetry/logger.js';
import type { KeyRecord } from './key-store.js';

export interface KeyCacheOptions {
  readonly load: (id: string) => Promise<KeyRecord | undefined>;
  readonly logger: Logger;
  /** How long a looked-up key is trusted before it is read again. */
  readonly ttlMs?: number;
  /** How long a known key keeps working from memory while the database is unreachable. */
  readonly staleMs?: number;
  readonly maxEntries?: number;
}

interface Entry {
  record: KeyRecord | null;
  fetchedAt: number;
}

/**
 * Key lookups by public id, cached briefly. Concurrent lookups of one id share a query (no
 * connection stampede on the auth path). When the database fails, known keys are served from memory.
 */
export function createKeyCache(options: KeyCacheOptions) {
  const ttlMs = options.ttlMs ?? 10_000;
  const staleMs = options.staleMs ?? 3_600_000;
  const maxEntries = options.maxEntries ?? 100_000;
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<KeyRecord | null>>();
  let warnedOutage = false;

  async function refresh(id: string): Promise<KeyRecord | null> {
    try {
      const record = (await options.load(id)) ?? null;
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(id, { record, fetchedAt: Date.now() });
      warnedOutage = false;
      return record;
    } catch (error) {
      const entry = entries.get(id);
      if (entry?.record && Date.now() - entry.fetchedAt < staleMs) {
        if (!warnedOutage) {
          warnedOutage = true;
          options.logger.warn({ err: (error as Error).message }, 'key lookup failed; using cached keys');
        }
        return entry.record;
      }
      throw new GatewayError('service_unavailable', 'API keys cannot be checked right now; retry shortly.', {
        cause: error,
      });
    }
  }

  return {
    async get(id: string): Promise<KeyRecord | null> {
      const entry = entries.get(id);
      if (entry && Date.now() - entry.fetchedAt < ttlMs) return entry.record;
      let lookup = pending.get(id);
      if (!lookup) {
        lookup = refresh(id).finally(() => pending.delete(id));
        pending.set(id, lookup);
      }
      return lookup;
    },
    /** Forgets a key so the next request reads it again (after update, revoke, rotate). */
    invalidate(id: string) {
      entries.delete(id);
    },
  };
}

export type KeyCache = ReturnType<typeof createKeyCache>;
