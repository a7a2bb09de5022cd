import { beforeEach, describe, expect, it } from 'vitest';
import {
  dripForever,
  errorInFirstChunk,
  fail,
  hang,
  malformedSse,
  ok,
  streamThenEnd,
  streamThenReset,
  streamThenStall,
} from './fake-upstream.js';
import { chatRequest, envelopeOf, type FaultRig, parseSse, RIG_RETRY, streamedText } from './fault-rig.js';

/** Registers the cases; `current` returns the rig started by faults.test.ts (reset before each case). */
export function describeStreamFaults(current: () => FaultRig) {
  describe('streams against a misbehaving upstream', () => {
    let rig: FaultRig;
    beforeEach(() => {
      rig = current();
    });

    async function stream(model: string, headers: Record<string, string> = {}) {
      const response = await rig.post('/v1/chat/completions', chatRequest(model, true), headers);
      return { response, text: await response.text() };
    }

    /** A clean stream: 200, chunk events carrying `expected`, [DONE] last, no error event. */
    function expectCleanStream(response: Response, text: string, expected: string) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = parseSse(text);
      expect(events.filter((event) => event.event === 'error')).toEqual([]);
      expect(events.at(-1)!.data).toBe('[DONE]');
      expect(streamedText(events).trim()).toBe(expected);
    }

    /** A stream cut after its first byte: 200, content, then one `event: error`, and never [DONE]. */
    function expectErrorEnding(response: Response, text: string) {
      expect(response.status).toBe(200);
      const events = parseSse(text);
      expect(events.some((event) => event.data === '[DONE]')).toBe(false);
      expect(streamedText(events)).toContain('word1');
      const last = events.at(-1)!;
      expect(last.event).toBe('error');
      expect(events.filter((event) => event.event === 'error')).toHaveLength(1);
      return envelopeOf(JSON.parse(last.data));
    }

    it('relays a healthy stream ending with [DONE]', async () => {
      rig.primary.setDefault(ok('alpha beta gamma'));
      const { response, text } = await stream('solo');
      expectCleanStream(response, text, 'alpha beta gamma');
      expect(rig.primary.attempts).toHaveLength(1);
    });

    it('falls back before committing a 200 when the first deployment hangs before the first byte', async () => {
      rig.primary.setDefault(hang());
      rig.backup.setDefault(ok('served by the backup'));
      const { response, text } = await stream('pair');
      expectCleanStream(response, text, 'served by the backup');
      expect(rig.primary.attempts).toHaveLength(RIG_RETRY.maxAttempts);
      expect(rig.backup.attempts).toHaveLength(1);
    });

    it('answers 504 (not a 200 stream) when the only deployment hangs before the first byte', async () => {
      rig.primary.setDefault(hang());
      const { response, text } = await stream('solo');
      expect(response.status).toBe(504);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const error = envelopeOf(JSON.parse(text));
      expect(error.code).toBe('timeout_first_byte');
      expect(error.message).toContain('first_byte');
    });

    it('retries an error inside the first chunk of a 200 stream, then answers 502 with its message', async () => {
      rig.primary.setDefault(errorInFirstChunk('engine overloaded, shed 42'));
      const { response, text } = await stream('solo', { 'x-request-id': 'first-chunk-error' });
      expect(response.status).toBe(502);
      expect(response.headers.get('x-request-id')).toBe('first-chunk-error');
      const error = envelopeOf(JSON.parse(text));
      expect(error.message).toContain('engine overloaded, shed 42');
      expect(error.request_id).toBe('first-chunk-error');
      expect(rig.primary.attempts).toHaveLength(RIG_RETRY.maxAttempts);
    });

    it('falls back to a clean stream when the first chunk of a 200 stream is an error', async () => {
      rig.primary.setDefault(errorInFirstChunk());
      rig.backup.setDefault(ok('clean answer'));
      const { response, text } = await stream('pair');
      expectCleanStream(response, text, 'clean answer');
      expect(rig.backup.attempts).toHaveLength(1);
    });

    it('falls back to a clean stream when the first data line is malformed', async () => {
      rig.primary.setDefault(malformedSse(0));
      rig.backup.setDefault(ok('clean answer'));
      const { response, text } = await stream('pair');
      expectCleanStream(response, text, 'clean answer');
      expect(rig.primary.attempts).toHaveLength(RIG_RETRY.maxAttempts);
    });

    it('falls back when the upstream answers a stream request with a 500', async () => {
      rig.primary.setDefault(fail(500));
      rig.backup.setDefault(ok('clean answer'));
      const { response, text } = await stream('pair');
      expectCleanStream(response, text, 'clean answer');
    });

    it('ends with an idle-timeout error event, not [DONE], when the upstream stalls mid-stream', async () => {
      rig.primary.setDefault(streamThenStall(2));
      const { response, text } = await stream('pair', { 'x-request-id': 'stalled-stream' });
      const error = expectErrorEnding(response, text);
      expect(error.code).toBe('timeout_idle');
      expect(error.type).toBe('timeout_error');
      expect(error.message).toContain('idle');
      expect(error.request_id).toBe('stalled-stream');
      // After the first byte nothing is retried or sent elsewhere: that would duplicate content.
      expect(rig.primary.attempts).toHaveLength(1);
      expect(rig.backup.attempts).toHaveLength(0);
      await rig.primary.attempts[0]!.closed;
    });

    it('ends with a total-timeout error event when a stream never finishes', async () => {
      rig.primary.setDefault(dripForever(100));
      const { response, text } = await stream('capped');
      expect(response.status).toBe(200);
      const events = parseSse(text);
      expect(streamedText(events)).toContain('drip1');
      expect(events.some((event) => event.data === '[DONE]')).toBe(false);
      expect(events.at(-1)!.event).toBe('error');
      const error = envelopeOf(JSON.parse(events.at(-1)!.data));
      expect(error.code).toBe('timeout_total');
      expect(error.message).toContain('total');
      expect(rig.primary.attempts).toHaveLength(1);
    });

    it('ends with an error event when the upstream stream ends without [DONE]', async () => {
      rig.primary.setDefault(streamThenEnd(2));
      const { response, text } = await stream('pair');
      const error = expectErrorEnding(response, text);
      expect(error.code).toBe('upstream_bad_response');
      expect(error.message).toContain('[DONE]');
      expect(rig.primary.attempts).toHaveLength(1);
      expect(rig.backup.attempts).toHaveLength(0);
    });

    it('ends with an error event when the upstream connection resets mid-stream', async () => {
      rig.primary.setDefault(streamThenReset(2));
      const { response, text } = await stream('pair');
      const error = expectErrorEnding(response, text);
      expect(error.code).toMatch(/^upstream_/);
      expect(rig.primary.attempts).toHaveLength(1);
      expect(rig.backup.attempts).toHaveLength(0);
    });

    it('ends with an error event when a data line mid-stream is malformed', async () => {
      rig.primary.setDefault(malformedSse(2));
      const { response, text } = await stream('pair');
      const error = expectErrorEnding(response, text);
      expect(error.code).toBe('upstream_bad_response');
      expect(error.message).toContain('malformed JSON');
      expect(rig.primary.attempts).toHaveLength(1);
      expect(rig.backup.attempts).toHaveLength(0);
    });

    it('aborts the upstream stream at once when the client disconnects mid-stream', async () => {
      rig.primary.setDefault(streamThenStall(1));
      const client = new AbortController();
      const response = await rig.fetch(`${rig.gantry.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chatRequest('slow', true)),
        signal: client.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('data: ');
      client.abort();
      // slow's idle timeout is 30 s: only the disconnect can close the upstream connection now.
      const closedInTime = await Promise.race([
        rig.primary.attempts[0]!.closed.then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 3_000)),
      ]);
      expect(closedInTime).toBe(true);
      expect(rig.primary.attempts[0]!.completed()).toBe(false);
    });

    it('passes x-request-id and traceparent to the upstream', async () => {
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const { response } = await stream('solo', { 'x-request-id': 'trace-me', traceparent });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBe('trace-me');
      const headers = rig.primary.attempts[0]!.headers;
      expect(headers['x-request-id']).toBe('trace-me');
      expect(headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    });
  });
}
