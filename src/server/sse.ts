import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors/gateway-error.js';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // Tells nginx-style proxies not to buffer the stream.
  'x-accel-buffering': 'no',
};

const uncork = (response: ServerResponse) => response.uncork();

/**
 * Commits the 200 and SSE headers. Called only once the first upstream chunk is in hand, which is
 * written in the same tick: held until the tick ends, headers and first event leave in one write.
 */
export function startSse(response: ServerResponse, headers: Record<string, string>): void {
  response.cork();
  process.nextTick(uncork, response);
  response.writeHead(200, { ...SSE_HEADERS, ...headers });
  response.flushHeaders();
}

/**
 * Writes one `data:` event. When the client reads slowly (the socket buffer is full) it returns a
 * promise that settles once the socket drains or closes; otherwise nothing, so the caller awaits
 * only when it has to (a promise per relayed chunk is measurable on busy streams).
 */
export function writeSseData(response: ServerResponse, data: string): Promise<unknown> | undefined {
  if (response.write(`data: ${data}\n\n`)) return undefined;
  return Promise.race([once(response, 'drain'), once(response, 'close')]);
}

/**
 * Ends a stream that failed after the first byte: an error event in OpenAI's error shape
 * (the SDKs raise it), never a silent clean close and never `[DONE]`.
 */
export function endSseWithError(response: ServerResponse, error: GatewayError, requestId: string): void {
  if (response.writableEnded || response.destroyed) return;
  response.end(`event: error\ndata: ${JSON.stringify(error.toEnvelope(requestId))}\n\n`);
}

export function endSseDone(response: ServerResponse): void {
  if (!response.writableEnded) response.end('data: [DONE]\n\n');
}
