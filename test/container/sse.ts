/** One chat stream read to its end: the text received, the finish reason, and whether [DONE] came. */
export interface StreamOutcome {
  readonly text: string;
  readonly finishReason: string | null;
  readonly done: boolean;
  readonly error: unknown;
}

/**
 * Starts a streaming chat completion; `firstChunk` resolves when the first content arrives (so a
 * test can act while the stream is surely in flight), `outcome` when the stream ends.
 */
export function startChatStream(url: string, body: Record<string, unknown>, headers: Record<string, string>) {
  let markFirstChunk: () => void = () => {};
  const firstChunk = new Promise<void>((resolve) => {
    markFirstChunk = resolve;
  });
  const outcome = (async (): Promise<StreamOutcome> => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(60_000),
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ ...body, stream: true }),
    });
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    let text = '';
    let finishReason: string | null = null;
    let done = false;
    let error: unknown;
    for await (const bytes of response.body) {
      buffer += decoder.decode(bytes, { stream: true });
      let boundary = buffer.indexOf('\n\n');
      while (boundary !== -1) {
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        boundary = buffer.indexOf('\n\n');
        const data = event
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (!data) continue;
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        const chunk = JSON.parse(data) as {
          error?: unknown;
          choices?: Array<{ delta?: { content?: string }; finish_reason?: string | null }>;
        };
        if (chunk.error) error = chunk.error;
        const choice = chunk.choices?.[0];
        if (choice?.delta?.content) {
          text += choice.delta.content;
          markFirstChunk();
        }
        if (choice?.finish_reason) finishReason = choice.finish_reason;
      }
    }
    return { text, finishReason, done, error };
  })();
  // A stream that fails before its first chunk must not leave the caller waiting forever.
  outcome.then(markFirstChunk, markFirstChunk);
  return { firstChunk, outcome };
}
