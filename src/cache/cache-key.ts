import { createHash } from 'node:crypto';
import type { ChatCompletionRequest } from '../providers/openai-types.js';

/** Fields that change how the answer is delivered, not what it is. */
const DELIVERY_FIELDS = new Set(['stream', 'stream_options', 'conversation']);

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Exact-match key: alias + normalised request (+ the caller's key unless the cache is shared). */
export function cacheKey(alias: string, request: ChatCompletionRequest, scope: string | undefined): string {
  const normalised = Object.fromEntries(
    Object.entries(request).filter(([name]) => !DELIVERY_FIELDS.has(name)),
  );
  return createHash('sha256')
    .update(stableJson({ alias, scope: scope ?? null, request: normalised }))
    .digest('hex');
}
