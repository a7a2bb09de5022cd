import type { ChatCompletionRequest } from './openai-types.js';

/** A cheap token estimate (about four characters per token), for limits and the mock's usage. */
export function estimateTextTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
      text += (part as { text: string }).text;
    }
  }
  return text;
}

/** Estimated prompt tokens of a chat request: message text plus a small per-message overhead. */
export function estimatePromptTokens(request: Pick<ChatCompletionRequest, 'messages' | 'tools'>): number {
  let tokens = 3;
  for (const message of request.messages) {
    tokens += 4 + estimateTextTokens(contentText((message as { content?: unknown }).content));
    if (Array.isArray(content(message))) tokens += 85 * imageCount(message);
  }
  if (request.tools) tokens += estimateTextTokens(JSON.stringify(request.tools));
  return tokens;
}

function content(message: unknown): unknown {
  return (message as { content?: unknown }).content;
}

function imageCount(message: unknown): number {
  const parts = content(message) as Array<{ type?: string }>;
  return parts.filter((part) => part?.type === 'image_url').length;
}

export { contentText };
