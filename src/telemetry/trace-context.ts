import { randomHex } from './random-hex.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  readonly traceId: string;
  /** This hop's span id, sent upstream as the parent. */
  readonly spanId: string;
  readonly flags: string;
  /** The traceparent header to send upstream. */
  readonly traceparent: string;
}

/** Continues an incoming W3C traceparent, or starts a new trace when it is absent or invalid. */
export function traceContextFrom(header: string | string[] | undefined): TraceContext {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  const valid = match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!);
  const traceId = valid ? match[1]! : randomHex(16);
  const flags = valid ? match[3]! : '01';
  const spanId = randomHex(8);
  return { traceId, spanId, flags, traceparent: `00-${traceId}-${spanId}-${flags}` };
}
