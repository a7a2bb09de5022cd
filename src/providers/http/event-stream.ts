import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Deployment } from '../../config/load.js';
import { createSseDecoder, type SseEvent } from './sse-decoder.js';
import { firstByteTimeout, idleTimeout, transportError } from './transport-error.js';

/** Events decoded ahead of the consumer before the body is paused. */
const PAUSE_AT = 64;

/** The decoded events of a 2xx streaming answer. */
export interface EventStream extends AsyncIterable<SseEvent> {
  /**
   * Says the upstream's end marker arrived ([DONE], message_stop): the few bytes left are then
   * drained in the background so the connection goes back to the pool instead of being dropped.
   */
  complete(): void;
}

/**
 * Wraps a streaming response body with the first_byte and idle watchdogs.
 *
 * undici's bodyTimeout is not used for streams: it cannot tell the wait for the first event (a
 * reasoning model may think for a minute, governed by first_byte) from silence mid-stream (idle),
 * and it would count time the consumer spends applying backpressure. The idle timer here only runs
 * while this stream is waiting on the upstream.
 */
export function readEventStream(
  body: Dispatcher.ResponseData['body'],
  deployment: Deployment,
  startedAt: number,
  signal: AbortSignal,
): EventStream {
  let completed = false;
  let waiting = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const remaining = Math.max(0, startedAt + deployment.timeouts.first_byte - performance.now());
  const firstByteTimer = setTimeout(() => body.destroy(firstByteTimeout(deployment)), remaining).unref();

  // Events are pushed from the body's 'data' handler into a small queue and pulled by `next()`: no
  // async generator and no stream async iterator in between, each of which costs promises and
  // microtask hops on every chunk of every stream. The body pauses while the consumer lags.
  function events(): AsyncIterator<SseEvent> {
    const decoder = createSseDecoder();
    const queue: SseEvent[] = [];
    let head = 0;
    let ended = false;
    let failure: unknown;
    let failed = false;
    let closed = false;
    let wake: (() => void) | undefined;

    const take = (events: SseEvent[]) => {
      if (events.length === 0) return;
      if (idleTimer === undefined) {
        clearTimeout(firstByteTimer);
        idleTimer = setTimeout(() => {
          if (waiting) body.destroy(idleTimeout(deployment));
        }, deployment.timeouts.idle).unref();
      }
      for (const event of events) queue.push(event);
    };
    const notify = () => {
      const resume = wake;
      wake = undefined;
      resume?.();
    };
    const onData = (chunk: Buffer) => {
      take(decoder.decode(chunk));
      if (queue.length - head >= PAUSE_AT) body.pause();
      if (head < queue.length) notify();
      // Bytes without a complete event (a long event split across reads) still count as activity.
      else if (waiting) idleTimer?.refresh();
    };
    const onEnd = () => {
      take(decoder.end());
      ended = true;
      notify();
    };
    const onError = (error: unknown) => {
      failure = transportError(error, deployment, signal);
      failed = true;
      notify();
    };
    const onClose = () => {
      // Destroyed without an error (nor an end): still a cut stream, never a silent end.
      if (!ended && !failed) onError(new Error('the upstream stream closed before its end'));
    };
    body.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);

    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(firstByteTimer);
      clearTimeout(idleTimer);
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (body.readableEnded || failed) return;
      // Never an unhandled 'error' once our listener is gone.
      body.on('error', () => {});
      if (completed) {
        // The end marker arrived: drain the rest so the connection goes back to the pool.
        const limit = { limit: Number.MAX_SAFE_INTEGER, signal: AbortSignal.timeout(1_000) };
        body.dump(limit).catch(() => {});
      } else {
        // The consumer stopped early (client gone, error): cancel the upstream at once.
        body.destroy();
      }
    };

    const step = (): IteratorResult<SseEvent> | undefined => {
      if (head < queue.length) {
        const value = queue[head++]!;
        if (head === queue.length) {
          queue.length = 0;
          head = 0;
          if (body.isPaused() && !ended && !failed) body.resume();
        }
        return { value, done: false };
      }
      if (failed) {
        close();
        throw failure;
      }
      if (ended) {
        close();
        return { value: undefined, done: true };
      }
      return undefined;
    };

    return {
      next(): Promise<IteratorResult<SseEvent>> {
        if (closed) return Promise.resolve({ value: undefined, done: true });
        try {
          const ready = step();
          if (ready) return Promise.resolve(ready);
        } catch (error) {
          return Promise.reject(error);
        }
        waiting = true;
        idleTimer?.refresh();
        return new Promise((resolve, reject) => {
          // Called only once an event is queued, or the body ended or failed.
          wake = () => {
            waiting = false;
            try {
              resolve(step()!);
            } catch (error) {
              reject(error);
            }
          };
        });
      },
      return(): Promise<IteratorResult<SseEvent>> {
        close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  return {
    complete() {
      completed = true;
    },
    [Symbol.asyncIterator]: events,
  };
}
