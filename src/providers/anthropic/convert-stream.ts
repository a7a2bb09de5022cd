import { eventJson, isRecord } from '../http/event-json.js';
import type { EventStream } from '../http/event-stream.js';
import { badResponse, upstreamPayloadError } from '../http/upstream-error.js';
import type { ChatCompletionChunk, FinishReason } from '../openai-types.js';
import type { AnthropicUsage } from './anthropic-types.js';
import { finishReason, toUsage } from './convert-response.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

interface StreamEventPayload {
  type?: string;
  index?: number;
  message?: { id?: string; model?: string; usage?: AnthropicUsage };
  content_block?: { type?: string; id?: string; name?: string; text?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
}

/** What the conversion needs of the client's request: not the request itself (its whole prompt). */
export interface AnthropicStreamOptions {
  readonly model: string;
  /** The client asked for a final usage chunk (`stream_options.include_usage`). */
  readonly includeUsage: boolean;
}

/**
 * Opens and converts Anthropic's Messages event stream to OpenAI chunks. Nothing is yielded before
 * the first content event, so an error right after message_start can still be retried. `event:
 * error` throws; a stream that ends without message_stop throws instead of passing for complete.
 */
export async function* anthropicChunks(
  open: () => Promise<EventStream>,
  options: AnthropicStreamOptions,
  deploymentId: string,
): AsyncGenerator<ChatCompletionChunk> {
  // Opened on the first next(), as a generator would: nothing is sent before the consumer pulls.
  const stream = await open();
  let id = '';
  let model = options.model;
  const created = Math.floor(Date.now() / 1000);
  const usage: AnthropicUsage = {};
  // Anthropic numbers all content blocks; OpenAI numbers tool calls only.
  const toolIndexOfBlock = new Map<number, number>();
  let relayed = false;

  const chunk = (delta: Delta, finish: FinishReason | null = null): ChatCompletionChunk => {
    const first = !relayed;
    relayed = true;
    return {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [
        {
          index: 0,
          delta: first ? { role: 'assistant', ...delta } : delta,
          finish_reason: finish,
          logprobs: null,
        },
      ],
    };
  };

  for await (const event of stream) {
    if (event.event === 'ping') continue;
    const payload = eventJson(event, deploymentId);
    if (!isRecord(payload)) throw badResponse(deploymentId, 'sent a stream event that is not a JSON object');
    const data = payload as StreamEventPayload;
    const type = data.type ?? event.event;
    switch (type) {
      case 'error':
        throw upstreamPayloadError(deploymentId, payload);
      case 'message_start':
        id = data.message?.id ?? id;
        model = data.message?.model ?? model;
        Object.assign(usage, data.message?.usage);
        break;
      case 'content_block_start': {
        const block = data.content_block;
        if (block?.type === 'tool_use') {
          const index = toolIndexOfBlock.size;
          toolIndexOfBlock.set(data.index ?? -1, index);
          const call = {
            index,
            id: block.id,
            type: 'function' as const,
            function: { name: block.name, arguments: '' },
          };
          yield chunk({ tool_calls: [call] });
        } else if (block?.type === 'text' && block.text) {
          yield chunk({ content: block.text });
        }
        break;
      }
      case 'content_block_delta': {
        const delta = data.delta;
        if (delta?.type === 'text_delta' && delta.text) yield chunk({ content: delta.text });
        else if (delta?.type === 'input_json_delta' && delta.partial_json) {
          const index = toolIndexOfBlock.get(data.index ?? -1);
          if (index === undefined)
            throw badResponse(deploymentId, 'sent tool input for a block it never started');
          yield chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] });
        }
        // thinking and signature deltas have no Chat Completions equivalent.
        break;
      }
      case 'message_delta':
        // message_delta usage is cumulative, so it replaces rather than adds.
        Object.assign(usage, data.usage);
        yield chunk({}, finishReason(data.delta?.stop_reason) ?? 'stop');
        break;
      case 'message_stop':
        if (options.includeUsage) {
          yield { id, object: 'chat.completion.chunk', created, model, choices: [], usage: toUsage(usage) };
        }
        stream.complete();
        return;
      // content_block_stop and event types added later carry nothing to relay.
    }
  }
  throw badResponse(deploymentId, 'stream ended without message_stop');
}
