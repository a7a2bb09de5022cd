import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { http } from '../node-http.js';

const FASTIFY_CODES: Record<string, () => GatewayError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new GatewayError('request_too_large', 'The request body exceeds the configured size limit.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new GatewayError(
      'unsupported_media_type',
      'Unsupported Content-Type; send the body as application/json.',
    ),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new GatewayError('invalid_json', 'The request body is empty; expected a JSON object.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new GatewayError('invalid_request', 'The Content-Length header does not match the body.'),
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new GatewayError('invalid_json', 'The request body is not valid JSON.'),
};

/** Converts anything thrown into a GatewayError from the catalogue. */
export function toGatewayError(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return known();
  if (fastifyError.statusCode === 413) return FASTIFY_CODES.FST_ERR_CTP_BODY_TOO_LARGE!();
  if (fastifyError.statusCode === 415) return FASTIFY_CODES.FST_ERR_CTP_INVALID_MEDIA_TYPE!();
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new GatewayError('invalid_request', fastifyError.message ?? 'Bad request.', {
      status: fastifyError.statusCode,
    });
  }
  return new GatewayError('internal_error', 'The server had an error while processing your request.', {
    cause: error,
  });
}

/** Writes the OpenAI error envelope (plus the request id) with the catalogue's status. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: GatewayError) {
  if (error.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  // Framework errors (a malformed URL) arrive before the onRequest hook has set up the state.
  if (request.gantry) request.gantry.errorCode = error.code;
  return reply.code(error.status).type('application/json').send(error.toEnvelope(request.id));
}

/** Errors Fastify raises while routing, before any hook runs (its `frameworkErrors` option). */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const gatewayError =
    error.code === 'FST_ERR_BAD_URL'
      ? new GatewayError('malformed_http', 'The request URL is not valid (malformed percent-encoding).')
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new GatewayError('url_too_long', 'A path parameter of the request URL is too long.')
        : toGatewayError(error);
  reply.header('x-request-id', request.id);
  return sendError(request, reply, gatewayError);
}

/** A raw HTTP/1.1 answer with the error envelope, for sockets no request object exists for. */
function rawErrorResponse(error: GatewayError, extraHeaders = ''): string {
  const requestId = `req_${randomUUID()}`;
  const body = JSON.stringify(error.toEnvelope(requestId));
  return (
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status] ?? ''}\r\n` +
    `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\n${extraHeaders}connection: close\r\n\r\n${body}`
  );
}

function clientErrorFor(error: NodeJS.ErrnoException & { reason?: string }): GatewayError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('headers_too_large', 'The request line and headers are too large.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new GatewayError('request_timeout', 'The request was not received in time.');
    default:
      return new GatewayError(
        'malformed_http',
        `The request is not valid HTTP/1.1: ${error.reason ?? error.message} (${error.code ?? 'parse error'}).`,
      );
  }
}

/**
 * Node's HTTP parser rejected the bytes before Fastify saw a request (bad chunk sizes, both
 * Content-Length and Transfer-Encoding, an unknown method, oversized headers): answer in the same
 * error envelope as everything else, then close, since the connection's framing is lost.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: NodeJS.ErrnoException & { reason?: string },
  socket: Duplex,
) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const gatewayError = clientErrorFor(error);
  this.log.debug({ err: error, code: gatewayError.code }, 'malformed HTTP request');
  // A response already under way on this keep-alive connection cannot be followed by another one.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(rawErrorResponse(gatewayError));
  socket.destroy();
}

/** CONNECT is not proxied; Node would otherwise drop the socket without a word. */
function refuseConnect(_request: IncomingMessage, socket: Duplex) {
  const error = new GatewayError('method_not_allowed', 'CONNECT is not supported: Gantry is not a proxy.');
  socket.on('error', () => {});
  if (socket.writable) socket.end(rawErrorResponse(error));
  else socket.destroy();
}

/** The one error handler, plus 404/405 for unknown routes. */
export function installErrorHandlers(
  app: FastifyInstance,
  knownRoutes: ReadonlyMap<string, readonly string[]>,
) {
  app.server.on('connect', refuseConnect);
  app.addHook('onRequest', async (request) => {
    // HTTP/1.1 requires Host (RFC 9112 §3.2); Node's own check would answer without the envelope.
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new GatewayError('malformed_http', 'An HTTP/1.1 request must carry a Host header.');
    }
  });
  app.setErrorHandler((error, request, reply) => {
    const gatewayError = toGatewayError(error);
    if (reply.raw.destroyed) {
      // The client went away and the handler's abort surfaced here: nobody is left to answer.
      request.log.info({ reason: (error as Error).message }, 'client closed the connection early');
      return sendError(request, reply, gatewayError);
    }
    if (gatewayError.status >= 500 && gatewayError.code === 'internal_error') {
      request.log.error({ err: error }, 'unhandled error');
    }
    return sendError(request, reply, gatewayError);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const pattern = [...knownRoutes.keys()].find((route) => matches(route, path));
    if (pattern) {
      reply.header('allow', knownRoutes.get(pattern)!.join(', '));
      return sendError(
        request,
        reply,
        new GatewayError('method_not_allowed', `Method ${request.method} is not allowed on ${path}.`),
      );
    }
    return sendError(
      request,
      reply,
      new GatewayError('not_found', `Unknown request URL: ${request.method} ${path}.`),
    );
  });
}

function matches(pattern: string, path: string): boolean {
  const patternParts = pattern.split('/');
  const pathParts = path.split('/');
  if (patternParts.at(-1) === '*') {
    return (
      pathParts.length >= patternParts.length &&
      patternParts.slice(0, -1).every((part, index) => part.startsWith(':') || part === pathParts[index])
    );
  }
  if (patternParts.length !== pathParts.length) return false;
  return patternParts.every((part, index) => part.startsWith(':') || part === pathParts[index]);
}
