import type { ChatCompletion, ChatCompletionChunk, ToolCall } from '../providers/openai-types.js';

/** Replays a stored completion as stream chunks: role, content in small pieces, finish, usage. */
export function completionToChunks(completion: ChatCompletion, includeUsage: boolean): ChatCompletionChunk[] {
  const base = { id: completion.id, object: 'chat.completion.chunk' as const, created: completion.created };
  const chunk = (choices: ChatCompletionChunk['choices']): ChatCompletionChunk => ({
    ...base,
    model: completion.model,
    choices,
  });
  const chunks: ChatCompletionChunk[] = [];
  for (const choice of completion.choices) {
    const index = choice.index;
    chunks.push(chunk([{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
    for (const piece of (choice.message.content ?? '').match(/\S+\s*|\s+/g) ?? []) {
      chunks.push(chunk([{ index, delta: { content: piece }, finish_reason: null }]));
    }
    if (choice.message.tool_calls?.length) {
      const toolCalls = choice.message.tool_calls.map((call, position) => ({ index: position, ...call }));
      chunks.push(chunk([{ index, delta: { tool_calls: toolCalls }, finish_reason: null }]));
    }
    chunks.push(chunk([{ index, delta: {}, finish_reason: choice.finish_reason }]));
  }
  if (includeUsage && completion.usage) chunks.push({ ...chunk([]), usage: completion.usage });
  return chunks;
}

/** Assembles streamed chunks into the completion they describe (for the cache and conversations). */
export function chunksToCompletion(chunks: readonly ChatCompletionChunk[]): ChatCompletion | undefined {
  const first = chunks[0];
  if (!first) return undefined;
  const choices = new Map<number, ChatCompletion['choices'][number]>();
  const toolCalls = new Map<number, Map<number, ToolCall>>();
  let usage: ChatCompletion['usage'];
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const delta of chunk.choices) {
      let choice = choices.get(delta.index);
      if (!choice) {
        choice = { index: delta.index, message: { role: 'assistant', content: null }, finish_reason: null };
        choices.set(delta.index, choice);
      }
      if (typeof delta.delta.content === 'string') {
        choice.message.content = (choice.message.content ?? '') + delta.delta.content;
      }
      for (const call of delta.delta.tool_calls ?? []) {
        const calls = toolCalls.get(delta.index) ?? new Map<number, ToolCall>();
        toolCalls.set(delta.index, calls);
        const existing = calls.get(call.index) ?? {
          id: '',
          type: 'function' as const,
          function: { name: '', arguments: '' },
        };
        if (call.id) existing.id = call.id;
        if (call.function?.name) existing.function.name += call.function.name;
        if (call.function?.arguments) existing.function.arguments += call.function.arguments;
        calls.set(call.index, existing);
      }
      if (delta.finish_reason) choice.finish_reason = delta.finish_reason;
    }
  }
  for (const [index, calls] of toolCalls) {
    const choice = choices.get(index)!;
    choice.message.tool_calls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  }
  return {
    id: first.id,
    object: 'chat.completion',
    created: first.created,
    model: first.model,
    choices: [...choices.values()].sort((a, b) => a.index - b.index),
    ...(usage ? { usage } : {}),
  };
}
