import { ERROR_CODES, type ErrorCode } from './codes.js';

export interface GatewayErrorOptions {
  /** JSON path of the offending request field, for 400s. */
  readonly param?: string | null;
  readonly cause?: unknown;
  /** Overrides the catalogue's status (e.g. an upstream 4xx relayed as is). */
  readonly status?: number;
  /** Overrides the catalogue's retryability (e.g. a 503 from upstream that is retryable). */
  readonly retryable?: boolean;
  /** Seconds the client should wait before retrying (sets Retry-After). */
  readonly retryAfterSeconds?: number;
  /** Upstream's own error code, kept in the envelope when relaying. */
  readonly upstreamCode?: string | null;
}

/** The one error type: a stable catalogue code, its status, and whether retrying may help. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly retryable: boolean;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamCode: string | null;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    const entry = ERROR_CODES[code];
    this.code = code;
    this.status = options.status ?? entry.status;
    this.type = entry.type;
    this.retryable = options.retryable ?? entry.retryable;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.upstreamCode = options.upstreamCode ?? null;
  }

  /** The OpenAI error envelope. */
  toEnvelope(requestId?: string) {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.param,
        code: this.upstreamCode ?? this.code,
        ...(requestId ? { request_id: requestId } : {}),
      },
    };
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
