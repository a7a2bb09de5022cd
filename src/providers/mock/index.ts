import { setTimeout as sleep } from 'node:timers/promises';
import type { Deployment } from '../../config/load.js';
import type { MockConfig } from '../../config/schema.js';
import type { CallContext, Provider } from '../contract.js';
import { contentText, estimatePromptTokens, estimateTextTokens } from '../estimate-tokens.js';
import { upstreamHttpError } from '../http/upstream-error.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  FunctionTool,
  ToolCall,
  Usage,
} from '../openai-types.js';
import { mockEmbedding, mockWords, seedOf } from './mock-text.js';

const DEFAULTS: MockConfig = { ttft: 0, chunk_delay: 0, words: 12, error_rate: 0, dimensions: 256 };
/** A prompt containing `#mock-error=<status>` makes the mock fail with that upstream status. */
const INJECTED_ERROR = /#mock-error=(\d{3})/;

interface Plan {
  readonly words: string[];
  readonly toolCall: ToolCall | undefined;
  readonly json: string | undefined;
  readonly usage: Usage;
  readonly finishReason: 'stop' | 'length' | 'tool_calls';
}

function lastUserText(request: ChatCompletionRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index]!;
    if (message.role === 'user') return contentText(message.content);
  }
  return '';
}

function exampleFor(schema: Record<string, unknown> | undefined): unknown {
  switch (schema?.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, exampleFor(value)]));
    }
    case 'array':
      return [];
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    default:
      return Array.isArray(schema?.enum) ? schema.enum[0] : 'mock';
  }
}

function chooseTool(request: ChatCompletionRequest): FunctionTool | undefined {
  if (!request.tools?.length || request.tool_choice === 'none') return undefined;
  const choice = request.tool_choice;
  if (typeof choice === 'object')
    return request.tools.find((tool) => tool.function.name === choice.function.name);
  // After a tool result the model answers in text, as real models do.
  if (request.messages.at(-1)?.role === 'tool') return undefined;
  if (choice === 'required' || /\b(call|use)\b.*\btool\b|\bweather\b/i.test(lastUserText(request))) {
    return request.tools[0];
  }
  return undefined;
}

function plan(request: ChatCompletionRequest, settings: MockConfig, model: string): Plan {
  const text = lastUserText(request);
  const seed = seedOf(model, text);
  const limit = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
  const count = Math.max(1, Math.min(settings.words, limit));
  const promptTokens = estimatePromptTokens(request);
  const tool = chooseTool(request);
  if (tool) {
    const argumentsText = JSON.stringify(exampleFor(tool.function.parameters));
    const toolCall: ToolCall = {
      id: `call_${seed.toString(36)}`,
      type: 'function',
      function: { name: tool.function.name, arguments: argumentsText },
    };
    const completion = estimateTextTokens(argumentsText) + 3;
    return {
      words: [],
      toolCall,
      json: undefined,
      finishReason: 'tool_calls',
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completion,
        total_tokens: promptTokens + completion,
      },
    };
  }
  const words = mockWords(seed, count);
  const format = request.response_format?.type;
  const json =
    format === 'json_object'
      ? JSON.stringify({ mock: true, answer: words.join(' ') })
      : format === 'json_schema' && 'json_schema' in request.response_format!
        ? JSON.stringify(exampleFor(request.response_format.json_schema.schema))
        : undefined;
  const completion = json ? estimateTextTokens(json) : words.length;
  return {
    words,
    toolCall: undefined,
    json,
    finishReason: count < settings.words && !json ? 'length' : 'stop',
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completion,
      total_tokens: promptTokens + completion,
    },
  };
}

function maybeFail(
  request: ChatCompletionRequest | undefined,
  settings: MockConfig,
  deploymentId: string,
): void {
  const injected = request ? INJECTED_ERROR.exec(lastUserText(request)) : null;
  const status = injected ? Number(injected[1]) : Math.random() < settings.error_rate ? 500 : 0;
  if (status === 0) return;
  // Injected failures go through the same mapping as real upstream answers.
  const headers = status === 429 || status === 503 ? { 'retry-after': '1' } : {};
  const body = JSON.stringify({
    error: { message: `mock provider injected an upstream error with status ${status}` },
  });
  throw upstreamHttpError(deploymentId, status, headers, body);
}

/** Sleeps, rejecting with the signal's own reason when aborted (as real adapters do). */
async function pause(milliseconds: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (milliseconds <= 0) return;
  try {
    await sleep(milliseconds, undefined, { signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  }
}

/** The embedded default provider: deterministic, keyless, with configurable latency and faults. */
export function createMockProvider(deployment: Deployment): Provider {
  const settings: MockConfig = { ...DEFAULTS, ...deployment.mock };
  const idBase = deployment.id.replace(/[^a-z0-9]/gi, '');
  let counter = 0;
  const nextId = () => `chatcmpl-mock${idBase}${(++counter).toString(36)}`;

  return {
    id: deployment.id,

    async chat(request: ChatCompletionRequest, context: CallContext): Promise<ChatCompletion> {
      await pause(settings.ttft, context.signal);
      maybeFail(request, settings, deployment.id);
      const answer = plan(request, settings, request.model);
      return {
        id: nextId(),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: answer.toolCall ? null : (answer.json ?? answer.words.join(' ')),
              ...(answer.toolCall ? { tool_calls: [answer.toolCall] } : {}),
              refusal: null,
            },
            finish_reason: answer.finishReason,
            logprobs: null,
          },
        ],
        usage: answer.usage,
        system_fingerprint: 'gantry-mock',
      };
    },

    async *chatStream(
      request: ChatCompletionRequest,
      context: CallContext,
    ): AsyncIterable<ChatCompletionChunk> {
      await pause(settings.ttft, context.signal);
      maybeFail(request, settings, deployment.id);
      const answer = plan(request, settings, request.model);
      const id = nextId();
      const created = Math.floor(Date.now() / 1000);
      const chunk = (
        delta: ChatCompletionChunk['choices'][number]['delta'],
        finish: Plan['finishReason'] | null,
      ) =>
        ({
          id,
          object: 'chat.completion.chunk',
          created,
          model: request.model,
          system_fingerprint: 'gantry-mock',
          choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
        }) satisfies ChatCompletionChunk;
      yield chunk({ role: 'assistant', content: '' }, null);
      const pieces = answer.toolCall
        ? []
        : answer.json
          ? (answer.json.match(/.{1,16}/gs) ?? [])
          : answer.words.map((word, index) => (index === 0 ? word : ` ${word}`));
      for (const piece of pieces) {
        await pause(settings.chunk_delay, context.signal);
        yield chunk({ content: piece }, null);
      }
      if (answer.toolCall) {
        const { id: callId, function: call } = answer.toolCall;
        yield chunk(
          {
            tool_calls: [
              { index: 0, id: callId, type: 'function', function: { name: call.name, arguments: '' } },
            ],
          },
          null,
        );
        for (const piece of call.arguments.match(/.{1,8}/gs) ?? []) {
          yield chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null);
        }
      }
      yield chunk({}, answer.finishReason);
      if (request.stream_options?.include_usage) {
        yield {
          id,
          object: 'chat.completion.chunk',
          created,
          model: request.model,
          choices: [],
          usage: answer.usage,
        };
      }
    },

    async embed(request: EmbeddingRequest, context: CallContext): Promise<EmbeddingResponse> {
      context.signal.throwIfAborted();
      maybeFail(undefined, settings, deployment.id);
      const inputs = typeof request.input === 'string' ? [request.input] : request.input;
      const texts = inputs.map((input) => (typeof input === 'string' ? input : JSON.stringify(input)));
      const dimensions = request.dimensions ?? settings.dimensions;
      const tokens = texts.reduce((sum, text) => sum + estimateTextTokens(text), 0);
      return {
        object: 'list',
        data: texts.map((text, index) => ({
          object: 'embedding',
          index,
          embedding: encode(mockEmbedding(text, dimensions), request.encoding_format),
        })),
        model: request.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },

    async close() {},
  };
}

function encode(vector: number[], format: EmbeddingRequest['encoding_format']): number[] | string {
  if (format !== 'base64') return vector;
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}
