import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';

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
  request.gantry.errorCode = error.code;
  return reply.code(error.status).type('application/json').send(error.toEnvelope(request.id));
}

/** The one error handler, plus 404/405 for unknown routes. */
export function installErrorHandlers(
  app: FastifyInstance,
  knownRoutes: ReadonlyMap<string, readonly string[]>,
) {
  app.setErrorHandler((error, request, reply) => {
    const gatewayError = toGatewayError(error);
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
  if (patternParts.length !== pathParts.length) return false;
  return patternParts.every((part, index) => part.startsWith(':') || part === pathParts[index]);
}
