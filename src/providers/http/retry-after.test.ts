import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-05-27T12:00:00Z');

  it('reads delta-seconds, fractional ones included', () => {
    expect(parseRetryAfter({ 'retry-after': '2' }, now)).toBe(2);
    expect(parseRetryAfter({ 'retry-after': '0.5' }, now)).toBe(0.5);
  });

  it('reads an HTTP date as the seconds until then, never negative', () => {
    expect(parseRetryAfter({ 'retry-after': 'Tue, 27 May 2025 12:00:30 GMT' }, now)).toBe(30);
    expect(parseRetryAfter({ 'retry-after': 'Tue, 27 May 2025 11:59:00 GMT' }, now)).toBe(0);
  });

  it('prefers retry-after-ms, in seconds', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '120', 'retry-after': '1' }, now)).toBe(0.12);
  });

  it('returns undefined when absent or unreadable', () => {
    expect(parseRetryAfter({}, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after-ms': 'x', 'retry-after': '' }, now)).toBeUndefined();
  });
});
