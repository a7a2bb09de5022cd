import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/gateway-error.js';
import { MAX_JSON_DEPTH, parseJsonBody } from './parse-json-body.js';

function refusal(body: Buffer | string): string {
  try {
    parseJsonBody(Buffer.isBuffer(body) ? body : Buffer.from(body));
  } catch (error) {
    if (isGatewayError(error) && error.code === 'invalid_json' && error.status === 400) return error.message;
    throw error;
  }
  throw new Error('expected invalid_json');
}

describe('parseJsonBody', () => {
  it('parses ordinary JSON, escapes included', () => {
    expect(parseJsonBody(Buffer.from('{"text":"caf\\u00e9","constructor":"a string is fine"}'))).toEqual({
      text: 'café',
      constructor: 'a string is fine',
    });
  });

  it('refuses __proto__ keys, however they are spelled', () => {
    expect(refusal('{"__proto__":{"admin":true}}')).toContain('__proto__');
    expect(refusal('{"a":[{"\\u005f_proto__":{"admin":true}}]}')).toContain('__proto__');
    expect(refusal('{"\\u005f\\u005f\\u0070roto\\u005f\\u005f":1}')).toContain('__proto__');
    expect(refusal('{"constructor":{"prototype":{"x":1}}}')).toContain('constructor');
  });

  it('refuses bytes that are not UTF-8 rather than replacing them', () => {
    expect(refusal(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toContain('UTF-8');
  });

  it('refuses nesting deeper than the limit before parsing', () => {
    expect(refusal('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1))).toContain('deeper');
    expect(
      parseJsonBody(Buffer.from('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))),
    ).toBeInstanceOf(Array);
    // Brackets inside strings are text, not nesting.
    expect(parseJsonBody(Buffer.from(JSON.stringify({ text: '['.repeat(1000) })))).toEqual({
      text: '['.repeat(1000),
    });
  });

  it('refuses an empty body and malformed JSON', () => {
    expect(refusal('')).toContain('empty');
    expect(refusal('{"a":1,}')).toContain('could not parse');
  });
});
