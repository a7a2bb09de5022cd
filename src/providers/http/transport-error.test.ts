import { errors } from 'undici';
import { describe, expect, it } from 'vitest';
import { testDeployment } from '../../../test/providers/test-deployment.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { transportError } from './transport-error.js';

const deployment = testDeployment({
  id: 'vllm/llama',
  timeouts: { connect: 1_000, first_byte: 2_000, idle: 3_000, total: 9_000 },
});
const live = new AbortController().signal;

describe('transportError', () => {
  it.each([
    [new errors.ConnectTimeoutError(), 'timeout_connect', 'connect timeout (1000 ms)'],
    [new errors.HeadersTimeoutError(), 'timeout_first_byte', 'first_byte timeout (2000 ms)'],
    [new errors.BodyTimeoutError(), 'timeout_idle', 'idle timeout (3000 ms)'],
  ])('maps %s to %s naming the timeout', (error, code, text) => {
    const mapped = transportError(error, deployment, live) as GatewayError;
    expect(mapped).toBeInstanceOf(GatewayError);
    expect(mapped).toMatchObject({ code, retryable: true });
    expect(mapped.message).toContain(text);
    expect(mapped.message).toContain('vllm/llama');
  });

  it.each([
    Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:8000'), { code: 'ECONNREFUSED' }),
    Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    new errors.SocketError('other side closed'),
    Object.assign(
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'connect failed'),
    ),
  ])('maps connection failure %s to upstream_unreachable, retryable', (error) => {
    expect(transportError(error, deployment, live)).toMatchObject({
      code: 'upstream_unreachable',
      retryable: true,
    });
  });

  it('returns the signal reason when the caller aborted, whatever undici threw', () => {
    const reason = new Error('client went away');
    const error = transportError(new errors.SocketError('closed'), deployment, AbortSignal.abort(reason));
    expect(error).toBe(reason);
  });

  it('passes GatewayErrors and unrelated errors through untouched', () => {
    const gatewayError = new GatewayError('timeout_idle', 'x');
    expect(transportError(gatewayError, deployment, live)).toBe(gatewayError);
    const bug = new TypeError('undefined is not a function');
    expect(transportError(bug, deployment, live)).toBe(bug);
  });
});
