const SAMPLE_INTERVAL_MS = 100;

export interface EventLoopMonitor {
  /** Current event-loop lag in milliseconds: the last timer drift, or how overdue the next tick is. */
  lagMs(): number;
  stop(): void;
}

/**
 * Measures event-loop lag by timer drift. A histogram (monitorEventLoopDelay) reports the past;
 * liveness and load shedding need the present, including a tick that is overdue right now.
 */
export function createEventLoopMonitor(intervalMs = SAMPLE_INTERVAL_MS): EventLoopMonitor {
  let expected = performance.now() + intervalMs;
  let lastDrift = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lastDrift = Math.max(0, now - expected);
    expected = now + intervalMs;
  }, intervalMs);
  timer.unref();
  return {
    lagMs() {
      const overdue = performance.now() - expected;
      return Math.max(lastDrift, overdue);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
