import type { Deployment } from '../../config/load.js';
import { GatewayError, isGatewayError } from '../../errors/gateway-error.js';

// Failures to reach the upstream or of the connection under a request: another attempt may work.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

// The upstream spoke, but not valid HTTP (or not the length it announced).
const PROTOCOL_CODES = new Set(['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_HEADERS_OVERFLOW']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  // Happy-eyeballs connects fail with an AggregateError of one error per address.
  const first = (error as { errors?: unknown[] } | null)?.errors?.[0];
  return first === undefined ? undefined : codeOf(first);
}

/**
 * What to throw when an undici call fails: the signal's reason when the caller aborted (never an
 * upstream error), GatewayErrors as they are, undici timeouts and connection failures mapped to
 * the catalogue, and anything else (a bug) untouched.
 */
export function transportError(error: unknown, deployment: Deployment, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (isGatewayError(error)) return error;
  const code = codeOf(error);
  const detail = (error as Error).message;
  const { timeouts } = deployment;
  const upstream = `upstream ${deployment.id}`;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new GatewayError(
        'timeout_connect',
        `${upstream} did not accept a connection within the connect timeout (${timeouts.connect} ms)`,
        { cause: error },
      );
    case 'UND_ERR_HEADERS_TIMEOUT':
      return firstByteTimeout(deployment, error);
    case 'UND_ERR_BODY_TIMEOUT':
      return idleTimeout(deployment, error);
  }
  if (code !== undefined && CONNECTION_CODES.has(code)) {
    return new GatewayError('upstream_unreachable', `${upstream} is unreachable: ${detail} (${code})`, {
      cause: error,
    });
  }
  if (code !== undefined && (PROTOCOL_CODES.has(code) || code.startsWith('HPE_'))) {
    return new GatewayError(
      'upstream_bad_response',
      `${upstream} sent a malformed HTTP response: ${detail}`,
      {
        cause: error,
      },
    );
  }
  return error;
}

export function firstByteTimeout(deployment: Deployment, cause?: unknown): GatewayError {
  return new GatewayError(
    'timeout_first_byte',
    `upstream ${deployment.id} sent nothing within the first_byte timeout (${deployment.timeouts.first_byte} ms)`,
    { cause },
  );
}

export function idleTimeout(deployment: Deployment, cause?: unknown): GatewayError {
  return new GatewayError(
    'timeout_idle',
    `upstream ${deployment.id} went silent for longer than the idle timeout (${deployment.timeouts.idle} ms)`,
    { cause },
  );
}
