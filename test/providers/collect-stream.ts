import type { ChatCompletionChunk, FinishReason, Usage } from '../../src/providers/openai-types.js';

export interface CollectedStream {
  readonly chunks: ChatCompletionChunk[];
  readonly text: string;
  readonly toolCalls: Array<{ id: string; name: string; arguments: string }>;
  readonly finishReasons: FinishReason[];
  readonly usage: Usage | undefined;
}

/** Reads a whole chunk stream the way an OpenAI client does: text and tool calls reassembled by index. */
export async function collectStream(stream: AsyncIterable<ChatCompletionChunk>): Promise<CollectedStream> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return summarise(chunks);
}

export function summarise(chunks: ChatCompletionChunk[]): CollectedStream {
  let text = '';
  const toolCalls: Array<{ id: string; name: string; arguments: string }> = [];
  const finishReasons: FinishReason[] = [];
  let usage: Usage | undefined;
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      for (const delta of choice.delta.tool_calls ?? []) {
        toolCalls[delta.index] ??= { id: '', name: '', arguments: '' };
        const call = toolCalls[delta.index]!;
        call.id += delta.id ?? '';
        call.name += delta.function?.name ?? '';
        call.arguments += delta.function?.arguments ?? '';
      }
      if (choice.finish_reason) finishReasons.push(choice.finish_reason);
    }
  }
  return { chunks, text, toolCalls, finishReasons, usage };
}

/**
 * Reads a stream that must fail: returns the chunks it yielded before failing and the error.
 * Fails the test if the stream ends normally.
 */
export async function collectFailure(
  stream: AsyncIterable<ChatCompletionChunk>,
): Promise<{ chunks: ChatCompletionChunk[]; error: unknown }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  throw new Error(`stream ended normally after ${chunks.length} chunks; it should have failed`);
}
