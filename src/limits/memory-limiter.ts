import type { Limiter, LimitSpec, ReservationResult } from './limiter.js';

/**
 * One key's window: its charges in the order they were made, as a ring of two number arrays indexed
 * by each charge's sequence number (`seq & mask`), so that a window of a hot key (every admitted
 * request of the last minute: 300,000 at 5,000 a second) holds no object per charge for the
 * collector to trace. Reservation ids are kept only for adjustable charges, until they are adjusted.
 */
interface Window {
  at: Float64Array;
  cost: Float64Array;
  mask: number;
  /** Sequence number of the oldest charge still in the window, and of the next one. */
  first: number;
  next: number;
  total: number;
  /** Adjustable charges not yet adjusted, by reservation id, in the order they were made. */
  readonly unsettled: Map<string, number>;
}

const INITIAL_CAPACITY = 16;

function newWindow(): Window {
  return {
    at: new Float64Array(INITIAL_CAPACITY),
    cost: new Float64Array(INITIAL_CAPACITY),
    mask: INITIAL_CAPACITY - 1,
    first: 0,
    next: 0,
    total: 0,
    unsettled: new Map(),
  };
}

/** Doubles the ring, keeping every charge at `seq & mask` of the new size. */
function grow(window: Window): void {
  const capacity = (window.mask + 1) * 2;
  const at = new Float64Array(capacity);
  const cost = new Float64Array(capacity);
  for (let seq = window.first; seq < window.next; seq++) {
    at[seq & (capacity - 1)] = window.at[seq & window.mask]!;
    cost[seq & (capacity - 1)] = window.cost[seq & window.mask]!;
  }
  window.at = at;
  window.cost = cost;
  window.mask = capacity - 1;
}

/** The in-process limiter, for a single gateway process without Redis. Synchronous, hence atomic. */
export function createMemoryLimiter(now: () => number = Date.now): Limiter {
  const windows = new Map<string, Window>();

  function windowOf(key: string, windowMs: number, at: number): Window {
    let window = windows.get(key);
    if (!window) {
      window = newWindow();
      windows.set(key, window);
    }
    while (window.first < window.next && window.at[window.first & window.mask]! <= at - windowMs) {
      window.total -= window.cost[window.first & window.mask]!;
      window.first++;
    }
    // Reservations never adjusted (a request that never settled) leave with their charge.
    for (const [id, seq] of window.unsettled) {
      if (seq >= window.first) break;
      window.unsettled.delete(id);
    }
    if (window.first === window.next) {
      window.total = 0; // no rounding left once empty
      // A key that was hot and is quiet again gives its ring back (sequence numbers go on).
      if (window.mask + 1 > INITIAL_CAPACITY) {
        window.at = new Float64Array(INITIAL_CAPACITY);
        window.cost = new Float64Array(INITIAL_CAPACITY);
        window.mask = INITIAL_CAPACITY - 1;
      }
    }
    return window;
  }

  function charge(window: Window, spec: LimitSpec, at: number, reservationId: string): void {
    if (window.next - window.first > window.mask) grow(window);
    const seq = window.next++;
    window.at[seq & window.mask] = at;
    window.cost[seq & window.mask] = spec.cost;
    window.total += spec.cost;
    if (spec.adjustable) window.unsettled.set(reservationId, seq);
  }

  return {
    async reserve(specs: readonly LimitSpec[], reservationId: string): Promise<ReservationResult> {
      const at = now();
      let allowed = true;
      let retryAfterMs = 0;
      const views = specs.map((spec) => {
        const window = windowOf(spec.key, spec.windowMs, at);
        const resetMs =
          window.first < window.next ? window.at[window.first & window.mask]! + spec.windowMs - at : 0;
        if (window.total + spec.cost > spec.limit) {
          allowed = false;
          retryAfterMs = Math.max(retryAfterMs, waitFor(window, spec, at));
        }
        return { window, spec, resetMs };
      });
      if (allowed) for (const { window, spec } of views) charge(window, spec, at, reservationId);
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
      const seq = window?.unsettled.get(reservationId);
      if (!window || seq === undefined) return;
      window.unsettled.delete(reservationId);
      if (seq < window.first) return; // already out of the window
      const index = seq & window.mask;
      window.total += spec.cost - window.cost[index]!;
      window.cost[index] = spec.cost;
    },
    async close() {
      windows.clear();
    },
  };
}

/** How long until the oldest charges have left and `spec.cost` fits. */
function waitFor(window: Window, spec: LimitSpec, at: number): number {
  if (spec.cost > spec.limit) return spec.windowMs;
  let freed = 0;
  for (let seq = window.first; seq < window.next; seq++) {
    freed += window.cost[seq & window.mask]!;
    if (window.total - freed + spec.cost <= spec.limit)
      return window.at[seq & window.mask]! + spec.windowMs - at;
  }
  return spec.windowMs;
}
