import { isRecord } from '../http/event-json.js';
import { badResponse, readErrorDetails, upstreamPayloadError } from '../http/upstream-error.js';
import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../openai-types.js';
import type { AnthropicResponse, AnthropicUsage } from './anthropic-types.js';

/** Anthropic's stop_reason in OpenAI's terms. */
export function finishReason(stopReason: string | null | undefined): FinishReason | null {
  switch (stopReason) {
    case null:
    case undefined:
      return null;
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn and anything newer
      return 'stop';
  }
}

/**
 * Anthropic usage in OpenAI's terms. Anthropic counts cache reads and cache writes apart from
 * input_tokens; OpenAI's prompt_tokens includes cached tokens, so all three are summed.
 */
export function toUsage(usage: AnthropicUsage): Usage {
  const cached = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cached + (usage.cache_creation_input_tokens ?? 0);
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

/** Converts an Anthropic message to an OpenAI chat completion. */
export function toChatCompletion(payload: unknown, deploymentId: string): ChatCompletion {
  if (!isRecord(payload) || !Array.isArray(payload.content)) {
    if (readErrorDetails(payload)) throw upstreamPayloadError(deploymentId, payload);
    throw badResponse(deploymentId, 'sent a message without a content array');
  }
  const message = payload as unknown as AnthropicResponse;
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') text += block.text ?? '';
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: String(block.id),
        type: 'function',
        function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // thinking and server-tool blocks have no Chat Completions equivalent.
  }
  return {
    id: message.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        finish_reason: finishReason(message.stop_reason),
        logprobs: null,
      },
    ],
    usage: toUsage(message.usage ?? {}),
  };
}
