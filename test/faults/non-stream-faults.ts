import { beforeEach, describe, expect, it } from 'vitest';
import { dripForever, fail, hang, malformedJson, ok, resetMidBody } from './fake-upstream.js';
import { chatRequest, envelopeOf, type FaultRig, RIG_RETRY } from './fault-rig.js';

/** Registers the cases; `current` returns the rig started by faults.test.ts (reset before each case). */
export function describeNonStreamFaults(current: () => FaultRig) {
  describe('non-stream requests against a misbehaving upstream', () => {
    let rig: FaultRig;
    beforeEach(() => {
      rig = current();
    });

    it('falls back to the next deployment when the first refuses connections', async () => {
      rig.backup.setDefault(ok('from the backup'));
      const response = await rig.post('/v1/chat/completions', chatRequest('refused'));
      expect(response.status).toBe(200);
      const completion = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      expect(completion.choices[0]!.message.content).toBe('from the backup');
      expect(rig.backup.attempts).toHaveLength(1);
    });

    it('answers 502 upstream_unreachable with the request id when the only deployment refuses connections', async () => {
      const response = await rig.post('/v1/chat/completions', chatRequest('refused-only'), {
        'x-request-id': 'fault-refused-1',
      });
      expect(response.status).toBe(502);
      expect(response.headers.get('x-request-id')).toBe('fault-refused-1');
      const error = envelopeOf(await response.json());
      expect(error.code).toBe('upstream_unreachable');
      expect(error.type).toBe('upstream_error');
      expect(error.param).toBeNull();
      expect(error.request_id).toBe('fault-refused-1');
      expect(error.message).toContain('closed-port-only');
      expect(error.message).toContain('ECONNREFUSED');
    });

    it('retries a connection reset mid-body and succeeds on the second attempt', async () => {
      rig.primary.enqueue(resetMidBody());
      const response = await rig.post('/v1/chat/completions', chatRequest('solo'));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { object: string }).object).toBe('chat.completion');
      expect(rig.primary.attempts).toHaveLength(2);
    });

    it('answers 502 keeping the upstream message once retries of a 500 are exhausted', async () => {
      rig.primary.setDefault(fail(500, 'the database is on fire (ref 7731)'));
      const response = await rig.post('/v1/chat/completions', chatRequest('solo'), {
        'x-request-id': 'fault-500',
      });
      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const error = envelopeOf(await response.json());
      expect(error.code).toBe('upstream_error');
      expect(error.message).toContain('the database is on fire (ref 7731)');
      expect(error.request_id).toBe('fault-500');
      expect(rig.primary.attempts).toHaveLength(RIG_RETRY.maxAttempts);
      // The request id travels upstream on every attempt.
      expect(rig.primary.attempts.map((attempt) => attempt.headers['x-request-id'])).toEqual([
        'fault-500',
        'fault-500',
      ]);
    });

    it('falls back to the healthy deployment after the retries of a 500 are exhausted', async () => {
      rig.primary.setDefault(fail(500));
      const response = await rig.post('/v1/chat/completions', chatRequest('pair'));
      expect(response.status).toBe(200);
      expect(rig.primary.attempts).toHaveLength(RIG_RETRY.maxAttempts);
      expect(rig.backup.attempts).toHaveLength(1);
    });

    it('does not retry a 400 from the upstream and relays it', async () => {
      rig.primary.setDefault(fail(400, 'maximum context length exceeded'));
      const response = await rig.post('/v1/chat/completions', chatRequest('pair'));
      expect(response.status).toBe(400);
      const error = envelopeOf(await response.json());
      expect(error.message).toContain('maximum context length exceeded');
      expect(rig.primary.attempts).toHaveLength(1);
      expect(rig.backup.attempts).toHaveLength(0);
    });

    it('waits for Retry-After (seconds) before retrying a 429', async () => {
      rig.primary.enqueue(fail(429, 'slow down', { 'retry-after': '1' }));
      const startedAt = Date.now();
      const response = await rig.post('/v1/chat/completions', chatRequest('solo'));
      expect(response.status).toBe(200);
      expect(rig.primary.attempts).toHaveLength(2);
      // Honouring the header is the behaviour under test: the retry came no sooner than asked.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(950);
    });

    it('waits for retry-after-ms before retrying a 429', async () => {
      rig.primary.enqueue(fail(429, 'slow down', { 'retry-after-ms': '400' }));
      const startedAt = Date.now();
      const response = await rig.post('/v1/chat/completions', chatRequest('solo'));
      expect(response.status).toBe(200);
      expect(rig.primary.attempts).toHaveLength(2);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(380);
    });

    it('falls back at once instead of waiting out a Retry-After longer than max_retry_after', async () => {
      rig.primary.setDefault(fail(429, 'come back in a minute', { 'retry-after': '60' }));
      rig.backup.setDefault(ok('from the backup'));
      const response = await rig.post('/v1/chat/completions', chatRequest('pair'));
      expect(response.status).toBe(200);
      expect(rig.primary.attempts).toHaveLength(1);
      expect(rig.backup.attempts).toHaveLength(1);
    });

    it('relays a long upstream Retry-After to the client when no deployment is left', async () => {
      rig.primary.setDefault(fail(429, 'come back in a minute', { 'retry-after': '60' }));
      const response = await rig.post('/v1/chat/completions', chatRequest('solo'));
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('60');
      expect(envelopeOf(await response.json()).code).toBe('upstream_rate_limited');
      expect(rig.primary.attempts).toHaveLength(1);
    });

    it('answers 429 rate_limit_error with Retry-After when the upstream keeps rate limiting', async () => {
      rig.primary.setDefault(fail(429, 'quota per minute reached', { 'retry-after-ms': '50' }));
      const response = await rig.post('/v1/chat/completions', chatRequest('solo'));
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      const error = envelopeOf(await response.json());
      expect(error.type).toBe('rate_limit_error');
      expect(error.code).toBe('upstream_rate_limited');
      expect(error.message).toContain('quota per minute reached');
      expect(rig.primary.attempts).toHaveLength(RIG_RETRY.maxAttempts);
    });

    it('answers 504 naming the first_byte timeout when the upstream hangs before the first byte', async () => {
      rig.primary.setDefault(hang());
      const response = await rig.post('/v1/chat/completions', chatRequest('solo'));
      expect(response.status).toBe(504);
      const error = envelopeOf(await response.json());
      expect(error.code).toBe('timeout_first_byte');
      expect(error.type).toBe('timeout_error');
      expect(error.message).toContain('first_byte');
      expect(error.message).toContain('300 ms');
      expect(rig.primary.attempts).toHaveLength(RIG_RETRY.maxAttempts);
      // Every hung attempt was abandoned: Gantry closed its connection.
      await Promise.all(rig.primary.attempts.map((attempt) => attempt.closed));
    });

    it('answers 504 naming the total timeout when the upstream drips its body forever, without retrying', async () => {
      rig.primary.setDefault(dripForever(100));
      const response = await rig.post('/v1/chat/completions', chatRequest('capped'));
      expect(response.status).toBe(504);
      const error = envelopeOf(await response.json());
      expect(error.code).toBe('timeout_total');
      expect(error.message).toContain('total');
      expect(error.message).toContain('800 ms');
      expect(rig.primary.attempts).toHaveLength(1);
      await rig.primary.attempts[0]!.closed;
    });

    it('falls back when the first deployment hangs before the first byte', async () => {
      rig.primary.setDefault(hang());
      const response = await rig.post('/v1/chat/completions', chatRequest('pair'));
      expect(response.status).toBe(200);
      expect(rig.backup.attempts).toHaveLength(1);
    });

    it('answers 502 upstream_bad_response when the upstream sends malformed JSON', async () => {
      rig.primary.setDefault(malformedJson());
      const response = await rig.post('/v1/chat/completions', chatRequest('solo'));
      expect(response.status).toBe(502);
      const error = envelopeOf(await response.json());
      expect(error.code).toBe('upstream_bad_response');
      expect(error.message).toContain('malformed JSON');
      expect(rig.primary.attempts).toHaveLength(RIG_RETRY.maxAttempts);
    });

    it('retries a 503 on embeddings', async () => {
      rig.primary.enqueue(fail(503));
      const response = await rig.post('/v1/embeddings', { model: 'solo', input: 'hello' });
      expect(response.status).toBe(200);
      expect(rig.primary.attempts.map((attempt) => attempt.path)).toEqual([
        '/v1/embeddings',
        '/v1/embeddings',
      ]);
    });

    it('answers 502 on POST /chat when the provider fails', async () => {
      rig.primary.setDefault(fail(500, 'broken upstream for /chat'));
      const response = await rig.post('/chat', { message: 'hi', model: 'solo' });
      expect(response.status).toBe(502);
      const error = envelopeOf(await response.json());
      expect(error.message).toContain('broken upstream for /chat');
    });

    it('aborts the upstream call at once when the client disconnects', async () => {
      rig.primary.setDefault(hang());
      const client = new AbortController();
      const pending = rig
        .fetch(`${rig.gantry.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(chatRequest('slow')),
          signal: client.signal,
        })
        .catch((error: unknown) => error);
      while (rig.primary.attempts.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      client.abort();
      await pending;
      // slow's first_byte timeout is 30 s: only the disconnect can close this connection now.
      const closedInTime = await Promise.race([
        rig.primary.attempts[0]!.closed.then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 3_000)),
      ]);
      expect(closedInTime).toBe(true);
      expect(rig.primary.attempts).toHaveLength(1);
    });
  });
}
