import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Deployment } from '../../config/load.js';
import { createSseDecoder, type SseEvent } from './sse-decoder.js';
import { firstByteTimeout, idleTimeout, transportError } from './transport-error.js';

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

  // One generator from body bytes to events (reading, watchdogs and SSE decoding together): every
  // generator layer costs promises and microtask hops on each chunk of every stream.
  async function* events(): AsyncGenerator<SseEvent> {
    const decoder = createSseDecoder();
    const iterator = body[Symbol.asyncIterator]();
    try {
      while (true) {
        waiting = true;
        idleTimer?.refresh();
        let step: IteratorResult<Buffer>;
        try {
          step = await iterator.next();
        } finally {
          waiting = false;
        }
        for (const event of step.done ? decoder.end() : decoder.decode(step.value)) {
          if (idleTimer === undefined) {
            clearTimeout(firstByteTimer);
            idleTimer = setTimeout(() => {
              if (waiting) body.destroy(idleTimeout(deployment));
            }, deployment.timeouts.idle).unref();
          }
          yield event;
        }
        if (step.done) return;
      }
    } catch (error) {
      throw transportError(error, deployment, signal);
    } finally {
      clearTimeout(firstByteTimer);
      clearTimeout(idleTimer);
      if (!body.readableEnded) {
        if (completed) {
          const limit = { limit: Number.MAX_SAFE_INTEGER, signal: AbortSignal.timeout(1_000) };
          body.dump(limit).catch(() => {});
        } else {
          // The consumer stopped early (client gone, error): cancel the upstream at once.
          body.destroy();
        }
      }
    }
  }

  return {
    complete() {
      completed = true;
    },
    [Symbol.asyncIterator]: events,
  };
}
