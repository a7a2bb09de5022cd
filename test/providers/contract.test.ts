import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors/codes.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { ChatCompletionRequest } from '../../src/providers/openai-types.js';
import { anthropicHarness } from './anthropic-harness.js';
import { collectFailure, collectStream } from './collect-stream.js';
import {
  callContext,
  type Harness,
  JSON_REQUEST,
  TEXT_REQUEST,
  TOOL_REQUEST,
  TRACEPARENT,
} from './harness.js';
import { mockHarness } from './mock-harness.js';
import { openAICompatibleHarness } from './openai-compatible-harness.js';

const HARNESSES: Harness[] = [openAICompatibleHarness(), anthropicHarness(), mockHarness()];

const STREAM_TEXT: ChatCompletionRequest = {
  ...TEXT_REQUEST,
  stream: true,
  stream_options: { include_usage: true },
};
const STREAM_TOOL: ChatCompletionRequest = { ...TOOL_REQUEST, stream: true };

/** A full garbage collection, in a later task than the caller's last WeakRef access. */
async function collectGarbage() {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let round = 0; round < 3; round++) {
    await sleep(0);
    gc();
  }
}

function expectGatewayError(error: unknown, code: ErrorCode): GatewayError {
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code, (error as Error).message).toBe(code);
  return error as GatewayError;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const ERROR_ROWS = [
  { status: 400, code: 'upstream_client_error', gatewayStatus: 400, retryable: false },
  { status: 401, code: 'upstream_auth_error', gatewayStatus: 502, retryable: false },
  { status: 429, code: 'upstream_rate_limited', gatewayStatus: 429, retryable: true },
  { status: 500, code: 'upstream_error', gatewayStatus: 502, retryable: true },
] as const;

describe.each(HARNESSES)('provider contract: $name', (harness) => {
  const { capabilities: can, expected } = harness;

  beforeAll(() => harness.start());
  afterAll(() => harness.stop());
  beforeEach(() => {
    if (can.upstream) harness.upstream().clear();
  });

  describe('answers', () => {
    it('chat returns the text with finish_reason stop and usage', async () => {
      const request = harness.prepare('text', TEXT_REQUEST);
      const completion = await harness.provider().chat(request, callContext());
      expect(completion.object).toBe('chat.completion');
      expect(completion.choices[0]?.message.content).toBe(expected.text);
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      const usage = completion.usage!;
      expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
      if (expected.usage) expect(usage).toMatchObject(expected.usage);
    });

    it('chatStream relays the text as deltas, then one finish_reason and a usage chunk', async () => {
      const request = harness.prepare('text-stream', STREAM_TEXT);
      const stream = await collectStream(harness.provider().chatStream(request, callContext()));
      expect(stream.chunks[0]?.choices[0]?.delta.role).toBe('assistant');
      expect(stream.text).toBe(expected.text);
      expect(stream.finishReasons).toEqual(['stop']);
      const last = stream.chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage?.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
      if (expected.usage) expect(last.usage).toMatchObject(expected.usage);
    });

    it('chat returns tool calls with JSON arguments and finish_reason tool_calls', async () => {
      const request = harness.prepare('tool', TOOL_REQUEST);
      const completion = await harness.provider().chat(request, callContext());
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      const calls = choice.message.tool_calls ?? [];
      expect(calls.every((call) => call.id !== '' && call.type === 'function')).toBe(true);
      expect(
        calls.map((call) => ({ name: call.function.name, arguments: JSON.parse(call.function.arguments) })),
      ).toEqual(expected.toolCalls);
    });

    it('chatStream streams tool calls whose argument deltas reassemble to the JSON', async () => {
      const request = harness.prepare('tool-stream', STREAM_TOOL);
      const stream = await collectStream(harness.provider().chatStream(request, callContext()));
      expect(stream.finishReasons).toEqual(['tool_calls']);
      expect(stream.toolCalls.every((call) => call.id !== '')).toBe(true);
      expect(
        stream.toolCalls.map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) })),
      ).toEqual(expected.toolCalls);
    });

    it('JSON mode reaches the upstream and the answer parses as JSON', async () => {
      const request = harness.prepare('json', JSON_REQUEST);
      const completion = await harness.provider().chat(request, callContext());
      expect(() => JSON.parse(completion.choices[0]!.message.content!)).not.toThrow();
      if (can.upstream) harness.checkJsonRequest(harness.upstream().received.at(-1)!);
    });

    if (can.embeddings)
      it('embed returns one vector per input', async () => {
        harness.prepare('embeddings', TEXT_REQUEST);
        const request = {
          model: 'text-embedding-3-small',
          input: ['The food was delicious', 'The waiter was kind'],
          dimensions: 8,
        };
        const answer = await harness.provider().embed(request, callContext());
        expect(answer.data.map((item) => item.index)).toEqual([0, 1]);
        for (const item of answer.data) {
          expect(item.embedding).toHaveLength(8);
        }
        expect(answer.usage.total_tokens).toBeGreaterThan(0);
      });

    if (!can.embeddings)
      it('embed rejects with unsupported_parameter, without calling the upstream', async () => {
        const before = can.upstream ? harness.upstream().received.length : 0;
        const error = await rejection(
          harness.provider().embed({ model: 'test-model', input: 'hi' }, callContext()),
        );
        expect(expectGatewayError(error, 'unsupported_parameter').param).toBe('model');
        if (can.upstream) expect(harness.upstream().received.length).toBe(before);
      });
  });

  describe('upstream errors', () => {
    for (const row of ERROR_ROWS) {
      if (!(row.status === 401 && !can.authErrorMapping))
        it(`an upstream ${row.status} becomes ${row.code} (${row.gatewayStatus}, retryable ${row.retryable})`, async () => {
          const request = harness.prepare(`error-${row.status}`, TEXT_REQUEST);
          const error = expectGatewayError(
            await rejection(harness.provider().chat(request, callContext())),
            row.code,
          );
          expect(error.status).toBe(row.gatewayStatus);
          expect(error.retryable).toBe(row.retryable);
          if (row.status === 429) expect(error.retryAfterSeconds).toBe(expected.retryAfterSeconds);
          if (can.upstream) {
            expect(error.message).toContain(`upstream contract/${harness.name}`);
            expect(error.message).toContain(expected.errorMessages[row.status]);
          }
          if (row.status === 400) expect(error.param).toBe(expected.errorParam);
        });
    }

    it('a streamed request that the upstream refuses throws before yielding anything', async () => {
      const request = harness.prepare('error-429', STREAM_TEXT);
      const { chunks, error } = await collectFailure(harness.provider().chatStream(request, callContext()));
      expect(chunks).toEqual([]);
      expect(expectGatewayError(error, 'upstream_rate_limited').retryable).toBe(true);
    });
  });

  if (can.upstream)
    describe('stream faults', () => {
      it('an error inside the first stream event throws before anything is yielded', async () => {
        const request = harness.prepare('stream-error-first', STREAM_TEXT);
        const { chunks, error } = await collectFailure(harness.provider().chatStream(request, callContext()));
        expect(chunks).toEqual([]);
        const failure = expectGatewayError(error, 'upstream_error');
        expect(failure.retryable).toBe(true);
        expect(failure.message).toMatch(/server had an error|Overloaded/);
      });

      it('a stream that ends without its end marker throws after relaying its content', async () => {
        const request = harness.prepare('stream-cut', STREAM_TEXT);
        const { chunks, error } = await collectFailure(harness.provider().chatStream(request, callContext()));
        expect(chunks.some((chunk) => chunk.choices[0]?.delta.content)).toBe(true);
        expect(expectGatewayError(error, 'upstream_bad_response').message).toMatch(
          /without (\[DONE\]|message_stop)/,
        );
      });

      it('malformed JSON in a stream event throws upstream_bad_response', async () => {
        const request = harness.prepare('stream-malformed', STREAM_TEXT);
        const { error } = await collectFailure(harness.provider().chatStream(request, callContext()));
        expect(expectGatewayError(error, 'upstream_bad_response').message).toContain('malformed JSON');
      });

      it('a connection reset mid-stream throws upstream_unreachable after the content so far', async () => {
        const request = harness.prepare('text-stream', STREAM_TEXT, {
          resetAfterEvents: expected.firstContentEvents,
        });
        const { chunks, error } = await collectFailure(harness.provider().chatStream(request, callContext()));
        expect(chunks.length).toBeGreaterThan(0);
        expect(expectGatewayError(error, 'upstream_unreachable').retryable).toBe(true);
      });
    });

  if (can.upstream)
    describe('awkward delivery', () => {
      for (const chunkSize of [1, 2, 3, 5, 7, 64]) {
        it(`a text stream written ${chunkSize} byte(s) at a time (splitting UTF-8 and lines) decodes the same`, async () => {
          const request = harness.prepare('text-stream', STREAM_TEXT, { chunkSize });
          const stream = await collectStream(harness.provider().chatStream(request, callContext()));
          expect(stream.text).toBe(expected.text);
          expect(stream.finishReasons).toEqual(['stop']);
        });
      }

      it('a tool-call stream written byte by byte reassembles the same arguments', async () => {
        const request = harness.prepare('tool-stream', STREAM_TOOL, { chunkSize: 1 });
        const stream = await collectStream(harness.provider().chatStream(request, callContext()));
        expect(stream.toolCalls.map((call) => JSON.parse(call.arguments))).toEqual(
          expected.toolCalls.map((call) => call.arguments),
        );
      });

      it('a JSON answer written byte by byte parses the same', async () => {
        const request = harness.prepare('text', TEXT_REQUEST, { chunkSize: 1 });
        const completion = await harness.provider().chat(request, callContext());
        expect(completion.choices[0]?.message.content).toBe(expected.text);
      });
    });

  describe('cancellation', () => {
    it('aborting mid-stream rejects with the signal reason and cancels the upstream', async () => {
      const controller = new AbortController();
      const request = harness.prepare('text-stream', STREAM_TEXT, {
        holdAfterEvents: expected.firstContentEvents,
      });
      const iterator = harness
        .provider()
        .chatStream(request, callContext(controller.signal))
        [Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      const reason = new Error('client went away');
      controller.abort(reason);
      const error = await rejection(
        (async () => {
          while (!(await iterator.next()).done) {}
        })(),
      );
      expect(error).toBe(reason);
      if (can.upstream) await harness.upstream().waitForAbandoned(1);
    });

    if (can.upstream)
      it('an open stream does not keep the request it was opened with (its whole prompt)', async () => {
        const prompt = { role: 'user' as const, content: 'a long conversation '.repeat(5_000) };
        let request: ChatCompletionRequest | undefined = harness.prepare(
          'text-stream',
          { ...STREAM_TEXT, messages: [prompt] },
          { holdAfterEvents: expected.firstContentEvents },
        );
        const messages = new WeakRef(request.messages);
        const controller = new AbortController();
        const iterator = harness
          .provider()
          .chatStream(request, callContext(controller.signal))
          [Symbol.asyncIterator]();
        request = undefined;
        expect((await iterator.next()).done).toBe(false);
        // The stream is open (the upstream holds it after its first content): what it keeps now, it
        // keeps for the stream's life.
        await collectGarbage();
        expect(messages.deref()).toBeUndefined();
        controller.abort(new Error('done'));
        await iterator.return?.();
      });

    if (can.upstream)
      it('aborting while waiting for headers rejects with the reason at once', async () => {
        const upstream = harness.upstream();
        const abandoned = upstream.abandoned();
        const controller = new AbortController();
        const request = harness.prepare('text', TEXT_REQUEST, { silent: true });
        const pending = rejection(harness.provider().chat(request, callContext(controller.signal)));
        await sleep(50);
        const reason = new Error('client went away');
        const startedAt = performance.now();
        controller.abort(reason);
        expect(await pending).toBe(reason);
        expect(performance.now() - startedAt).toBeLessThan(500);
        await upstream.waitForAbandoned(abandoned + 1);
      });

    if (can.checksAbortBeforeStart)
      it('an already aborted signal rejects with its reason', async () => {
        const before = can.upstream ? harness.upstream().received.length : 0;
        const reason = new Error('already gone');
        const error = await rejection(
          harness.provider().chat(TEXT_REQUEST, callContext(AbortSignal.abort(reason))),
        );
        expect(error).toBe(reason);
        if (can.upstream) expect(harness.upstream().received.length).toBe(before);
      });
  });

  if (can.upstream)
    describe('timeouts and connections', () => {
      const fast = (timeouts: { first_byte?: number; idle?: number }) =>
        harness.provider({
          timeouts: { connect: 2_000, first_byte: 5_000, idle: 5_000, total: 30_000, ...timeouts },
        });

      it('no response headers within first_byte throws timeout_first_byte naming the timeout', async () => {
        const request = harness.prepare('text', TEXT_REQUEST, { silent: true });
        const error = await rejection(fast({ first_byte: 150 }).chat(request, callContext()));
        const failure = expectGatewayError(error, 'timeout_first_byte');
        expect(failure.message).toContain('first_byte timeout (150 ms)');
        expect(failure.retryable).toBe(true);
      });

      it('headers but no stream event within first_byte throws timeout_first_byte', async () => {
        const request = harness.prepare('text-stream', STREAM_TEXT, { holdAfterEvents: 0 });
        const { chunks, error } = await collectFailure(
          fast({ first_byte: 150, idle: 5_000 }).chatStream(request, callContext()),
        );
        expect(chunks).toEqual([]);
        expectGatewayError(error, 'timeout_first_byte');
      });

      it('a first event slower than idle but within first_byte is not an idle timeout', async () => {
        // Reasoning models may think long after the headers; first_byte, not idle, governs that wait.
        const request = harness.prepare('text-stream', STREAM_TEXT, { bodyDelayMs: 400 });
        const stream = await collectStream(
          fast({ first_byte: 5_000, idle: 150 }).chatStream(request, callContext()),
        );
        expect(stream.text).toBe(expected.text);
      });

      it('silence mid-stream longer than idle throws timeout_idle after the content so far', async () => {
        const request = harness.prepare('text-stream', STREAM_TEXT, {
          holdAfterEvents: expected.firstContentEvents,
        });
        const { chunks, error } = await collectFailure(
          fast({ idle: 150 }).chatStream(request, callContext()),
        );
        expect(chunks.length).toBeGreaterThan(0);
        const failure = expectGatewayError(error, 'timeout_idle');
        expect(failure.message).toContain('idle timeout (150 ms)');
        await harness.upstream().waitForAbandoned(1);
      });

      it('a non-stream body that stalls longer than idle throws timeout_idle', async () => {
        const request = harness.prepare('text', TEXT_REQUEST, { holdAfterBytes: 10 });
        const error = await rejection(fast({ idle: 150 }).chat(request, callContext()));
        expectGatewayError(error, 'timeout_idle');
      });

      it('a slow consumer (backpressure) does not count as upstream silence', async () => {
        // The upstream is never silent for 150 ms, but the consumer holds each chunk for 250 ms.
        const request = harness.prepare('text-stream', STREAM_TEXT, { chunkSize: 256, pauseMs: 5 });
        let text = '';
        for await (const chunk of fast({ idle: 150 }).chatStream(request, callContext())) {
          text += chunk.choices[0]?.delta.content ?? '';
          await sleep(250);
        }
        expect(text).toBe(expected.text);
      });

      it('a refused connection throws upstream_unreachable, retryable', async () => {
        const provider = harness.provider({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
        const error = expectGatewayError(
          await rejection(provider.chat(TEXT_REQUEST, callContext())),
          'upstream_unreachable',
        );
        expect(error.retryable).toBe(true);
        expect(error.message).toContain('ECONNREFUSED');
      });

      it('propagates x-request-id and traceparent', async () => {
        const request = harness.prepare('text', TEXT_REQUEST);
        await harness.provider().chat(request, callContext());
        const { headers } = harness.upstream().received.at(-1)!;
        expect(headers['x-request-id']).toBe('req_contract_1');
        expect(headers.traceparent).toBe(TRACEPARENT);
      });

      it('reuses one keep-alive connection across calls and completed streams', async () => {
        const upstream = harness.upstream();
        const provider = harness.provider();
        const before = upstream.connections();
        for (const scenario of ['text', 'text-stream', 'text-stream', 'text'] as const) {
          // The stream's terminating chunk lags its end marker, so it has to be drained, not dropped.
          const request =
            scenario === 'text'
              ? harness.prepare(scenario, TEXT_REQUEST)
              : harness.prepare(scenario, STREAM_TEXT, { endDelayMs: 50 });
          if (scenario === 'text') await provider.chat(request, callContext());
          else await collectStream(provider.chatStream(request, callContext()));
          // Let the drained stream hand its socket back to the pool.
          await sleep(100);
        }
        expect(upstream.connections() - before).toBe(1);
      });
    });
});
