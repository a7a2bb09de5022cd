import type { SseEvent } from './sse-decoder.js';
import { badResponse } from './upstream-error.js';

/**
 * The JSON payload of an SSE event. An `error` event whose data is plain text becomes an error
 * envelope around that text, so it still maps to the upstream's error rather than to bad JSON.
 */
export function eventJson(event: SseEvent, deploymentId: string): unknown {
  try {
    return JSON.parse(event.data);
  } catch {
    if (event.event === 'error') return { error: { message: event.data } };
    const shown = event.data.length > 200 ? `${event.data.slice(0, 200)}…` : event.data;
    throw badResponse(deploymentId, `sent malformed JSON in its stream: ${JSON.stringify(shown)}`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
