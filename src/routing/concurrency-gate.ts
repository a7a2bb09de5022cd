import { GatewayError } from '../errors/gateway-error.js';

export interface ConcurrencyGateOptions {
  /** Slots; requests beyond wait in the queue. */
  readonly limit: number;
  /** Waiting requests beyond this are refused at once. */
  readonly maxQueue: number;
  /** Longest wait in the queue before refusal. */
  readonly maxWaitMs: number;
  readonly onQueueChange?: (depth: number) => void;
  readonly onWaited?: (seconds: number) => void;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  enqueuedAt: number;
}

function overloaded(message: string, retryAfterSeconds: number) {
  return new GatewayError('server_overloaded', message, { retryAfterSeconds });
}

/**
 * A counting semaphore with a bounded FIFO wait queue: the backpressure primitive used for the
 * global `max_inflight` and each deployment's `max_concurrency`. A full queue or a wait past
 * `maxWaitMs` is refused with 503 server_overloaded and a Retry-After.
 */
export function createConcurrencyGate(options: ConcurrencyGateOptions) {
  let active = 0;
  const queue: Waiter[] = [];
  const retryAfter = Math.max(1, Math.ceil(options.maxWaitMs / 1000));

  function release() {
    const next = queue.shift();
    if (next) {
      options.onQueueChange?.(queue.length);
      clearTimeout(next.timer);
      next.signal?.removeEventListener('abort', next.onAbort);
      options.onWaited?.((performance.now() - next.enqueuedAt) / 1000);
      next.resolve(once());
    } else {
      active--;
    }
  }

  function once() {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  }

  function remove(waiter: Waiter) {
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    options.onQueueChange?.(queue.length);
  }

  return {
    get active() {
      return active;
    },
    get queued() {
      return queue.length;
    },
    /** Resolves with a release function once a slot is free; rejects with 503 when refused. */
    acquire(signal?: AbortSignal): Promise<() => void> | (() => void) {
      if (active < options.limit) {
        active++;
        return once();
      }
      if (queue.length >= options.maxQueue) {
        throw overloaded(
          'server overloaded: concurrency limit reached and the wait queue is full',
          retryAfter,
        );
      }
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          signal,
          enqueuedAt: performance.now(),
          onAbort: () => {
            clearTimeout(waiter.timer);
            remove(waiter);
            reject(signal?.reason);
          },
          timer: setTimeout(() => {
            signal?.removeEventListener('abort', waiter.onAbort);
            remove(waiter);
            reject(
              overloaded(`server overloaded: no slot became free within ${options.maxWaitMs} ms`, retryAfter),
            );
          }, options.maxWaitMs),
        };
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        queue.push(waiter);
        options.onQueueChange?.(queue.length);
      });
    },
  };
}

export type ConcurrencyGate = ReturnType<typeof createConcurrencyGate>;
