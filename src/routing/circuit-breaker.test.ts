import { describe, expect, it } from 'vitest';
import { type CircuitState, createCircuitBreaker } from './circuit-breaker.js';

function breaker(overrides: Partial<Parameters<typeof createCircuitBreaker>[0]> = {}) {
  let now = 0;
  const changes: CircuitState[] = [];
  const circuit = createCircuitBreaker({
    consecutiveFailures: 3,
    errorRate: 0.5,
    minRequests: 1_000,
    windowMs: 10_000,
    cooldownMs: 1_000,
    now: () => now,
    onStateChange: (state) => changes.push(state),
    ...overrides,
  });
  return { circuit, changes, advance: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  it('opens after consecutive failures; a success in between resets the count', () => {
    const { circuit } = breaker();
    circuit.onFailure();
    circuit.onFailure();
    circuit.onSuccess();
    circuit.onFailure();
    circuit.onFailure();
    expect(circuit.state).toBe('closed');
    circuit.onFailure();
    expect(circuit.state).toBe('open');
    expect(circuit.tryAcquire()).toBe(false);
  });

  it('opens on the error rate over the window once enough requests were seen', () => {
    const { circuit } = breaker({ consecutiveFailures: 100, minRequests: 10, errorRate: 0.5 });
    for (let index = 0; index < 5; index++) {
      circuit.onSuccess();
      circuit.onFailure();
    }
    expect(circuit.state).toBe('open');
  });

  it('lets one probe through after the cooldown; success closes, failure reopens', () => {
    const { circuit, changes, advance } = breaker({ consecutiveFailures: 1 });
    circuit.onFailure();
    advance(999);
    expect(circuit.tryAcquire()).toBe(false);
    advance(1);
    expect(circuit.state).toBe('half-open');
    expect(circuit.tryAcquire()).toBe(true);
    expect(circuit.tryAcquire()).toBe(false);
    circuit.onFailure();
    expect(circuit.state).toBe('open');
    advance(1_000);
    expect(circuit.tryAcquire()).toBe(true);
    circuit.onSuccess();
    expect(circuit.state).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('frees the half-open probe when its request was abandoned', () => {
    const { circuit, advance } = breaker({ consecutiveFailures: 1 });
    circuit.onFailure();
    advance(1_000);
    expect(circuit.tryAcquire()).toBe(true);
    circuit.onAbandon();
    expect(circuit.tryAcquire()).toBe(true);
  });
});
