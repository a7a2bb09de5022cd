import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorCode } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { http } from '../../node-http.js';
import { parseRetryAfter } from './retry-after.js';

/** What an upstream said about its own failure, whichever envelope it used. */
export interface UpstreamErrorDetails {
  readonly message: string | undefined;
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly param: string | undefined;
  /** A status carried in the body: in-stream errors have no response status of their own. */
  readonly status: number | undefined;
}

// Error types that arrive without an HTTP status (in-stream errors), OpenAI's and Anthropic's.
const TYPE_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  insufficient_quota: 429,
  api_error: 500,
  server_error: 500,
  overloaded_error: 529,
};

const MAX_MESSAGE = 1_000;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function detailsOf(record: Record<string, unknown>, fallbackType?: unknown): UpstreamErrorDetails {
  const status = typeof record.code === 'number' ? record.code : record.status;
  return {
    message: text(record.message),
    // Gemini puts its gRPC status name ("INVALID_ARGUMENT") where others put a type.
    type: text(record.type) ?? text(fallbackType) ?? text(record.status),
    code: text(record.code),
    param: text(record.param),
    status: typeof status === 'number' && status >= 400 && status <= 599 ? status : undefined,
  };
}

/**
 * Reads an error body: OpenAI `{error:{message,type,code,param}}`, Anthropic
 * `{type:'error',error:{type,message}}`, Gemini's `[{error:{code,message,status}}]`, vLLM's flat
 * `{object:'error',message}` and TGI's `{error:'…',error_type}`. Undefined when none of these.
 */
export function readErrorDetails(payload: unknown): UpstreamErrorDetails | undefined {
  const root = Array.isArray(payload) ? payload[0] : payload;
  if (!isRecord(root)) return undefined;
  if (isRecord(root.error)) return detailsOf(root.error);
  if (typeof root.error === 'string') return detailsOf({ message: root.error }, root.error_type);
  if (root.object === 'error') return detailsOf(root);
  return undefined;
}

/** The single retryability rule for upstream answers: 408, 409, 429 and 5xx may succeed on retry. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function classify(status: number): { code: ErrorCode; status: number } {
  if (status === 429) return { code: 'upstream_rate_limited', status: 429 };
  if (isRetryableStatus(status)) return { code: 'upstream_error', status: 502 };
  // The gateway's own credentials were refused: the client's key is not the problem, so no 401.
  if (status === 401 || status === 403) return { code: 'upstream_auth_error', status: 502 };
  if (status >= 400) return { code: 'upstream_client_error', status };
  return { code: 'upstream_bad_response', status: 502 };
}

function build(
  deploymentId: string,
  status: number,
  details: UpstreamErrorDetails | undefined,
  fallbackMessage: string,
  retryAfterSeconds: number | undefined,
  where: string,
): GatewayError {
  const kind = classify(status);
  let message = (details?.message ?? fallbackMessage).slice(0, MAX_MESSAGE);
  if (kind.code === 'upstream_auth_error') {
    // Upstreams echo part of the key they refused; that key is the gateway's, not the client's.
    message = message.replace(/\b(sk|key)-[\w*.-]{4,}/gi, '[redacted]');
    where = `rejected the gateway's credentials (${status})`;
  }
  return new GatewayError(kind.code, `upstream ${deploymentId} ${where}: ${message}`, {
    status: kind.status,
    retryable: isRetryableStatus(status),
    param: details?.param ?? null,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    // Only a relayed client error keeps the upstream's code (e.g. context_length_exceeded);
    // everything else answers with Gantry's stable code.
    upstreamCode: kind.code === 'upstream_client_error' ? (details?.code ?? null) : null,
  });
}

/** Maps a non-2xx upstream answer to the GatewayError the client sees, keeping the upstream's message. */
export function upstreamHttpError(
  deploymentId: string,
  status: number,
  headers: IncomingHttpHeaders,
  body: string,
): GatewayError {
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    payload = undefined;
  }
  const details = readErrorDetails(payload);
  const fallback = body.trim().slice(0, 300) || http.STATUS_CODES[status] || 'no error message';
  return build(deploymentId, status, details, fallback, parseRetryAfter(headers), `returned ${status}`);
}

/**
 * Maps an error the upstream sent inside a 200 answer (a stream's `event: error` or `{"error":…}`
 * chunk). Its status comes from the body, else from the error type, else 500.
 */
export function upstreamPayloadError(deploymentId: string, payload: unknown): GatewayError {
  const details = readErrorDetails(payload);
  const status = details?.status ?? TYPE_STATUS[details?.type ?? ''] ?? 500;
  const label = details?.type ?? details?.code ?? 'error';
  return build(deploymentId, status, details, 'no error message', undefined, `sent an error (${label})`);
}

/** An answer Gantry cannot use (malformed JSON, wrong shape, cut stream); retrying may help. */
export function badResponse(deploymentId: string, problem: string): GatewayError {
  return new GatewayError('upstream_bad_response', `upstream ${deploymentId} ${problem}`);
}
