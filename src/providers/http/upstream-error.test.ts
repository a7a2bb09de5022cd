import { describe, expect, it } from 'vitest';
import {
  isRetryableStatus,
  readErrorDetails,
  upstreamHttpError,
  upstreamPayloadError,
} from './upstream-error.js';

const openAIError = (message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null, ...extra } });

describe('upstreamHttpError', () => {
  it.each([
    [400, 'upstream_client_error', 400, false],
    [404, 'upstream_client_error', 404, false],
    [422, 'upstream_client_error', 422, false],
    [401, 'upstream_auth_error', 502, false],
    [403, 'upstream_auth_error', 502, false],
    [408, 'upstream_error', 502, true],
    [409, 'upstream_error', 502, true],
    [429, 'upstream_rate_limited', 429, true],
    [500, 'upstream_error', 502, true],
    [503, 'upstream_error', 502, true],
    [529, 'upstream_error', 502, true],
  ] as const)('maps %i to %s (%i, retryable %s)', (status, code, gatewayStatus, retryable) => {
    const error = upstreamHttpError('openai/gpt-4o', status, {}, openAIError('boom'));
    expect(error).toMatchObject({ code, status: gatewayStatus, retryable });
    expect(isRetryableStatus(status)).toBe(retryable);
  });

  it("keeps the upstream's message, param and (for client errors) its code", () => {
    const body = openAIError('Invalid value for temperature', {
      param: 'temperature',
      code: 'invalid_value',
    });
    const error = upstreamHttpError('openai/gpt-4o', 400, {}, body);
    expect(error.message).toBe('upstream openai/gpt-4o returned 400: Invalid value for temperature');
    expect(error.param).toBe('temperature');
    expect(error.toEnvelope().error.code).toBe('invalid_value');
  });

  it("answers Gantry's own code for server errors", () => {
    const error = upstreamHttpError('d', 500, {}, openAIError('oops', { code: 'server_error' }));
    expect(error.toEnvelope().error.code).toBe('upstream_error');
  });

  it('says the credentials refused are the gateway’s, and redacts the key the upstream echoes', () => {
    const body = openAIError('Incorrect API key provided: sk-proj-****abcd. You can find your API key at …', {
      code: 'invalid_api_key',
    });
    const error = upstreamHttpError('openai/gpt-4o', 401, {}, body);
    expect(error.message).toContain("rejected the gateway's credentials (401)");
    expect(error.message).not.toContain('sk-proj');
    expect(error.toEnvelope().error.code).toBe('upstream_auth_error');
  });

  it('reads Retry-After into retryAfterSeconds', () => {
    expect(upstreamHttpError('d', 429, { 'retry-after': '7' }, '').retryAfterSeconds).toBe(7);
    expect(upstreamHttpError('d', 503, { 'retry-after-ms': '1500' }, '').retryAfterSeconds).toBe(1.5);
  });

  it('falls back to the raw body, then to the status text', () => {
    expect(upstreamHttpError('d', 502, {}, '<html>Bad Gateway</html>').message).toBe(
      'upstream d returned 502: <html>Bad Gateway</html>',
    );
    expect(upstreamHttpError('d', 503, {}, '').message).toBe('upstream d returned 503: Service Unavailable');
  });
});

describe('readErrorDetails', () => {
  it.each([
    [
      'OpenAI',
      { error: { message: 'm', type: 't', param: 'p', code: 'c' } },
      { message: 'm', type: 't', param: 'p', code: 'c' },
    ],
    [
      'Anthropic',
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      { message: 'Overloaded', type: 'overloaded_error' },
    ],
    [
      'Gemini',
      [{ error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } }],
      { message: 'bad', type: 'INVALID_ARGUMENT', status: 400 },
    ],
    [
      'vLLM',
      { object: 'error', message: 'too long', type: 'BadRequestError', param: null, code: 400 },
      { message: 'too long', status: 400 },
    ],
    [
      'TGI',
      { error: 'Input validation error', error_type: 'validation' },
      { message: 'Input validation error', type: 'validation' },
    ],
  ])('reads the %s envelope', (_name, payload, expected) => {
    expect(readErrorDetails(payload)).toMatchObject(expected);
  });

  it('returns undefined for anything else', () => {
    expect(readErrorDetails({ choices: [] })).toBeUndefined();
    expect(readErrorDetails('error')).toBeUndefined();
    expect(readErrorDetails(null)).toBeUndefined();
  });
});

describe('upstreamPayloadError', () => {
  it('infers the status of an in-stream error from its type or code', () => {
    const overloaded = upstreamPayloadError('a', {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect(overloaded).toMatchObject({ code: 'upstream_error', status: 502, retryable: true });
    expect(overloaded.message).toBe('upstream a sent an error (overloaded_error): Overloaded');
    const limited = upstreamPayloadError('a', { error: { type: 'rate_limit_error', message: 'slow down' } });
    expect(limited).toMatchObject({ code: 'upstream_rate_limited', retryable: true });
    const invalid = upstreamPayloadError('o', { error: { code: 400, message: 'Provider returned error' } });
    expect(invalid).toMatchObject({ code: 'upstream_client_error', status: 400, retryable: false });
  });

  it('treats an unknown in-stream error as a retryable server error', () => {
    expect(upstreamPayloadError('o', { error: { message: 'hmm' } })).toMatchObject({
      code: 'upstream_error',
      retryable: true,
    });
    expect(upstreamPayloadError('o', 'not even json')).toMatchObject({
      code: 'upstream_error',
      retryable: true,
    });
  });
});
