export interface RetryBudgetOptions {
  /** Retries allowed as a fraction of requests in the window. */
  readonly ratio: number;
  /** Retries always allowed per second of window, so a quiet gateway can still retry. */
  readonly minPerSecond: number;
  readonly windowMs: number;
  readonly now?: () => number;
}

/**
 * A retry budget (as in Finagle and Envoy): over a sliding window, retries may not exceed
 * `ratio` of requests plus a small floor. During an outage, upstream attempts therefore stay within
 * (1 + ratio) × requests instead of multiplying by the attempt count.
 */
export function createRetryBudget(options: RetryBudgetOptions) {
  const now = options.now ?? Date.now;
  const bucketCount = Math.max(1, Math.ceil(options.windowMs / 1000));
  const requests = new Float64Array(bucketCount);
  const retries = new Float64Array(bucketCount);
  let currentSecond = Math.floor(now() / 1000);

  function advance() {
    const second = Math.floor(now() / 1000);
    const steps = Math.min(second - currentSecond, bucketCount);
    for (let step = 1; step <= steps; step++) {
      const index = (currentSecond + step) % bucketCount;
      requests[index] = 0;
      retries[index] = 0;
    }
    if (second > currentSecond) currentSecond = second;
    return currentSecond % bucketCount;
  }

  const sum = (values: Float64Array) => values.reduce((total, value) => total + value, 0);

  return {
    /** Counts a request (call once per client request). */
    recordRequest() {
      requests[advance()]! += 1;
    },
    /** Takes one retry from the budget; false when the budget is spent. */
    tryAcquire(): boolean {
      const index = advance();
      const allowed = sum(requests) * options.ratio + options.minPerSecond * bucketCount;
      if (sum(retries) + 1 > allowed) return false;
      retries[index]! += 1;
      return true;
    },
  };
}

export type RetryBudget = ReturnType<typeof createRetryBudget>;
