import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Deployment } from '../../config/load.js';
import type { CallContext } from '../contract.js';
import { type EventStream, readEventStream } from './event-stream.js';
import { transportError } from './transport-error.js';
import { UndiciAgent } from './undici-agent.js';
import { badResponse, readErrorDetails, upstreamHttpError, upstreamPayloadError } from './upstream-error.js';

/** One POST to the upstream: where, the adapter's headers (auth), and the JSON body. */
export interface UpstreamCall {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface UpstreamClient {
  /** POSTs and returns the parsed JSON of a 2xx answer; anything else throws a GatewayError. */
  postJson(call: UpstreamCall, context: CallContext): Promise<unknown>;
  /** POSTs and returns the event stream of a 2xx answer; anything else throws a GatewayError. */
  postEvents(call: UpstreamCall, context: CallContext): Promise<EventStream>;
  close(): Promise<void>;
}

// Error bodies are read only this far: enough for any real message, bounded for a hostile one.
const ERROR_BODY_LIMIT = 64 * 1024;

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= ERROR_BODY_LIMIT) break;
    }
  } catch {
    // A partial error body still says more than none.
  }
  return Buffer.concat(chunks).toString('utf8');
}

function snippet(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** The HTTP plumbing shared by adapters: one keep-alive undici Agent per deployment. */
export function createUpstreamClient(deployment: Deployment): UpstreamClient {
  const { timeouts } = deployment;
  const agent = new UndiciAgent({
    connect: { timeout: timeouts.connect },
    headersTimeout: timeouts.first_byte,
    bodyTimeout: timeouts.idle,
    // Long enough to reuse connections across a burst, shorter than typical upstream idle limits.
    keepAliveTimeout: 10_000,
  });
  const deploymentHeaders = lowerCaseKeys(deployment.headers);

  async function send(call: UpstreamCall, context: CallContext, stream: boolean) {
    context.signal.throwIfAborted();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      ...call.headers,
      ...deploymentHeaders,
      'x-request-id': context.requestId,
    };
    if (context.traceparent) headers.traceparent = context.traceparent;
    let response: Dispatcher.ResponseData;
    try {
      response = await agent.request({
        origin: call.url.origin,
        path: call.url.pathname + call.url.search,
        method: 'POST',
        headers,
        // A Buffer, not the string: undici keeps the body it was given (its request handler) and the
        // Buffer it sends (its request) until the response ends, so a string would be a second copy
        // of the whole prompt for the life of every stream.
        body: Buffer.from(JSON.stringify(call.body)),
        signal: context.signal,
        // Streams get their own first-event and idle watchdog (see readEventStream).
        ...(stream ? { bodyTimeout: 0 } : {}),
      });
    } catch (error) {
      throw transportError(error, deployment, context.signal);
    }
    if (response.statusCode < 200 || response.statusCode > 299) {
      const text = await readCapped(response.body);
      context.signal.throwIfAborted();
      throw upstreamHttpError(deployment.id, response.statusCode, response.headers, text);
    }
    return response;
  }

  async function readJson(response: Dispatcher.ResponseData, context: CallContext): Promise<unknown> {
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw transportError(error, deployment, context.signal);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw badResponse(deployment.id, `sent malformed JSON: ${snippet(text)}`);
    }
  }

  return {
    async postJson(call, context) {
      return readJson(await send(call, context, false), context);
    },

    async postEvents(call, context) {
      const startedAt = performance.now();
      const response = await send(call, context, true);
      const contentType = String(response.headers['content-type'] ?? '');
      if (contentType.startsWith('application/json')) {
        // Some servers answer a stream request with one JSON document, usually an error.
        const payload = await readJson(response, context);
        throw readErrorDetails(payload)
          ? upstreamPayloadError(deployment.id, payload)
          : badResponse(deployment.id, 'answered a stream request with JSON instead of an event stream');
      }
      return readEventStream(response.body, deployment, startedAt, context.signal);
    },

    close: () => agent.close(),
  };
}
