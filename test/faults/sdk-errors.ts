import OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { fail, streamThenEnd } from './fake-upstream.js';
import { type FaultRig, RIG_MASTER_KEY } from './fault-rig.js';

/** What a caught SDK error says. */
async function caught(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('expected the SDK to throw');
}

const messages = [{ role: 'user' as const, content: 'hello' }];

/** The official SDK raises its own error class for each of Gantry's error answers. */
export function describeSdkErrors(current: () => FaultRig) {
  describe('openai SDK error classes against Gantry', () => {
    let rig: FaultRig;
    let client: OpenAI;
    beforeEach(() => {
      rig = current();
      client = new OpenAI({ baseURL: `${rig.gantry.url}/v1`, apiKey: RIG_MASTER_KEY, maxRetries: 0 });
    });

    it('raises BadRequestError for a 400, with the JSON path as param', async () => {
      const error = await caught(client.chat.completions.create({ model: 'solo', messages, temperature: 7 }));
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.status).toBe(400);
      expect(error.param).toBe('temperature');
      expect(error.type).toBe('invalid_request_error');
      expect(rig.primary.attempts).toHaveLength(0);
    });

    it('raises AuthenticationError for a wrong key', async () => {
      const stranger = new OpenAI({ baseURL: `${rig.gantry.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
      const error = await caught(stranger.chat.completions.create({ model: 'solo', messages }));
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error.code).toBe('invalid_api_key');
      expect(rig.primary.attempts).toHaveLength(0);
    });

    it('raises NotFoundError for an unknown model', async () => {
      const error = await caught(client.chat.completions.create({ model: 'no-such-model', messages }));
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error.code).toBe('model_not_found');
      expect(error.param).toBe('model');
    });

    it('raises RateLimitError when the upstream keeps answering 429', async () => {
      rig.primary.setDefault(fail(429, 'tokens per minute exceeded', { 'retry-after-ms': '20' }));
      const error = await caught(client.chat.completions.create({ model: 'solo', messages }));
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect(error.message).toContain('tokens per minute exceeded');
    });

    it('raises InternalServerError for a 502 after the upstream 500s exhausted the retries', async () => {
      rig.primary.setDefault(fail(500, 'upstream exploded'));
      const error = await caught(client.chat.completions.create({ model: 'solo', messages }));
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error.status).toBe(502);
      expect(error.message).toContain('upstream exploded');
      expect(error.requestID).toMatch(/\S/);
    });

    it('raises APIError while iterating a stream that fails after its first chunk', async () => {
      rig.primary.setDefault(streamThenEnd(2));
      const stream = await client.chat.completions.create({ model: 'solo', messages, stream: true });
      const received: string[] = [];
      const error = await caught(
        (async () => {
          for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? '');
        })(),
      );
      expect(received.join('')).toContain('word1');
      expect(error.message).toContain('[DONE]');
      expect(error.code).toBe('upstream_bad_response');
    });
  });
}
