export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  readonly consecutiveFailures: number;
  readonly errorRate: number;
  readonly minRequests: number;
  readonly windowMs: number;
  readonly cooldownMs: number;
  readonly now?: () => number;
  readonly onStateChange?: (state: CircuitState) => void;
}

/**
 * Per-deployment circuit breaker. Opens after N consecutive failures, or when the error rate over
 * the window exceeds the threshold with enough requests. After the cooldown one probe request is let
 * through (half-open): success closes the circuit, failure opens it again.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions) {
  const now = options.now ?? Date.now;
  let state: CircuitState = 'closed';
  let consecutive = 0;
  let openedAt = 0;
  let probeInFlight = false;
  let windowStart = now();
  let windowTotal = 0;
  let windowFailures = 0;

  function setState(next: CircuitState) {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  }

  function rollWindow() {
    const time = now();
    if (time - windowStart >= options.windowMs) {
      windowStart = time;
      windowTotal = 0;
      windowFailures = 0;
    }
  }

  function open() {
    openedAt = now();
    probeInFlight = false;
    setState('open');
  }

  return {
    get state(): CircuitState {
      if (state === 'open' && now() - openedAt >= options.cooldownMs) return 'half-open';
      return state;
    },
    /** Whether a request may go to this deployment now; in half-open, only one probe at a time. */
    tryAcquire(): boolean {
      if (state === 'closed') return true;
      if (state === 'open' && now() - openedAt < options.cooldownMs) return false;
      if (probeInFlight) return false;
      probeInFlight = true;
      setState('half-open');
      return true;
    },
    onSuccess() {
      rollWindow();
      windowTotal++;
      consecutive = 0;
      if (state !== 'closed') {
        probeInFlight = false;
        setState('closed');
      }
    },
    onFailure() {
      rollWindow();
      windowTotal++;
      windowFailures++;
      consecutive++;
      if (state === 'half-open') return open();
      if (state !== 'closed') return;
      const rateTripped =
        windowTotal >= options.minRequests && windowFailures / windowTotal >= options.errorRate;
      if (consecutive >= options.consecutiveFailures || rateTripped) open();
    },
    /** A request that ended without a verdict (client went away): frees the half-open probe. */
    onAbandon() {
      if (state === 'half-open') probeInFlight = false;
    },
  };
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;
