/**
 * The error catalogue: every error Gantry answers with, its HTTP status, its OpenAI error `type`
 * and whether a caller (or Gantry's router) may retry it. Documented in docs/errors.md; a test keeps
 * the two in sync.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: 'invalid_request_error', retryable: false },
  invalid_json: { status: 400, type: 'invalid_request_error', retryable: false },
  malformed_http: { status: 400, type: 'invalid_request_error', retryable: false },
  unsupported_parameter: { status: 400, type: 'invalid_request_error', retryable: false },
  invalid_api_key: { status: 401, type: 'authentication_error', retryable: false },
  missing_api_key: { status: 401, type: 'authentication_error', retryable: false },
  permission_denied: { status: 403, type: 'permission_error', retryable: false },
  model_not_found: { status: 404, type: 'invalid_request_error', retryable: false },
  not_found: { status: 404, type: 'invalid_request_error', retryable: false },
  method_not_allowed: { status: 405, type: 'invalid_request_error', retryable: false },
  request_timeout: { status: 408, type: 'invalid_request_error', retryable: true },
  request_too_large: { status: 413, type: 'invalid_request_error', retryable: false },
  url_too_long: { status: 414, type: 'invalid_request_error', retryable: false },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', retryable: false },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error', retryable: true },
  headers_too_large: { status: 431, type: 'invalid_request_error', retryable: false },
  budget_exceeded: { status: 429, type: 'insufficient_quota', retryable: false },
  internal_error: { status: 500, type: 'server_error', retryable: false },
  upstream_error: { status: 502, type: 'upstream_error', retryable: true },
  upstream_bad_response: { status: 502, type: 'upstream_error', retryable: true },
  upstream_unreachable: { status: 502, type: 'upstream_error', retryable: true },
  upstream_rate_limited: { status: 429, type: 'rate_limit_error', retryable: true },
  upstream_client_error: { status: 400, type: 'invalid_request_error', retryable: false },
  upstream_auth_error: { status: 502, type: 'upstream_error', retryable: false },
  no_healthy_deployment: { status: 503, type: 'server_error', retryable: true },
  server_overloaded: { status: 503, type: 'server_error', retryable: true },
  server_shutting_down: { status: 503, type: 'server_error', retryable: true },
  service_unavailable: { status: 503, type: 'server_error', retryable: true },
  timeout_connect: { status: 504, type: 'timeout_error', retryable: true },
  timeout_first_byte: { status: 504, type: 'timeout_error', retryable: true },
  timeout_idle: { status: 504, type: 'timeout_error', retryable: true },
  timeout_total: { status: 504, type: 'timeout_error', retryable: false },
} as const satisfies Record<string, { status: number; type: string; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;
