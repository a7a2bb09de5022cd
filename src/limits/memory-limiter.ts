import type { Limiter, LimitSpec, ReservationResult } from './limiter.js';

interface Window {
  /** Charges in the order they were made (Map keeps insertion order). */
  readonly charges: Map<string, { at: number; cost: number }>;
  total: number;
}

/** The in-process limiter, for a single gateway process without Redis. Synchronous, hence atomic. */
export function createMemoryLimiter(now: () => number = Date.now): Limiter {
  const windows = new Map<string, Window>();

  function windowOf(key: string, windowMs: number, at: number): Window {
    let window = windows.get(key);
    if (!window) {
      window = { charges: new Map(), total: 0 };
      windows.set(key, window);
    }
    for (const [id, charge] of window.charges) {
      if (charge.at > at - windowMs) break;
      window.total -= charge.cost;
      window.charges.delete(id);
    }
    return window;
  }

  return {
    async reserve(specs: readonly LimitSpec[], reservationId: string): Promise<ReservationResult> {
      const at = now();
      let allowed = true;
      let retryAfterMs = 0;
      const views = specs.map((spec) => {
        const window = windowOf(spec.key, spec.windowMs, at);
        const oldest = window.charges.values().next().value;
        const resetMs = oldest ? oldest.at + spec.windowMs - at : 0;
        if (window.total + spec.cost > spec.limit) {
          allowed = false;
          retryAfterMs = Math.max(retryAfterMs, waitFor(window, spec, at));
        }
        return { window, spec, resetMs };
      });
      if (allowed) {
        for (const { window, spec } of views) {
          window.charges.set(reservationId, { at, cost: spec.cost });
          window.total += spec.cost;
        }
      }
      return {
        allowed,
        retryAfterMs,
        states: views.map(({ window, resetMs, spec }) => ({
          used: window.total,
          resetMs: resetMs || (allowed ? spec.windowMs : 0),
        })),
      };
    },
    async adjust(spec, reservationId) {
      const window = windows.get(spec.key);
      const charge = window?.charges.get(reservationId);
      if (!window || !charge) return;
      window.total += spec.cost - charge.cost;
      charge.cost = spec.cost;
    },
    async close() {
      windows.clear();
    },
  };
}

function waitFor(window: Window, spec: LimitSpec, at: number): number {
  if (spec.cost > spec.limit) return spec.windowMs;
  let freed = 0;
  for (const charge of window.charges.values()) {
    freed += charge.cost;
    if (window.total - freed + spec.cost <= spec.limit) return charge.at + spec.windowMs - at;
  }
  return spec.windowMs;
}
