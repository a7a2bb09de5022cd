import type { ServerResponse } from 'node:http';
import type { Behaviour, UpstreamAttempt } from '../faults/fake-upstream.js';

type Message = { role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string };

/** The messages an upstream attempt received. */
export function receivedMessages(attempt: UpstreamAttempt): Message[] {
  return attempt.body.messages as Message[];
}

function lastUserText(attempt: UpstreamAttempt): string {
  const user = receivedMessages(attempt).findLast((message) => message.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

function completion(message: Record<string, unknown>, finishReason: string) {
  return {
    id: 'chatcmpl-conv',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'up-model',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
    usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
  };
}

function chunk(delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    id: 'chatcmpl-conv',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'up-model',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

function sendStream(response: ServerResponse, chunks: readonly unknown[]) {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const each of chunks) response.write(`data: ${JSON.stringify(each)}\n\n`);
  response.end('data: [DONE]\n\n');
}

/** Answers "answer to <last user message>", streamed word by word when asked, after `delayMs`. */
export function echoAnswer(delayMs: () => number = () => 0): Behaviour {
  return (response, attempt) => {
    const text = `answer to ${lastUserText(attempt)}`;
    setTimeout(() => {
      if (!attempt.stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(completion({ content: text }, 'stop')));
        return;
      }
      sendStream(response, [
        chunk({ role: 'assistant', content: '' }),
        ...text.split(/(?= )/).map((piece) => chunk({ content: piece })),
        chunk({}, 'stop'),
        { ...chunk({}), choices: [], usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 } },
      ]);
    }, delayMs());
  };
}

/** Calls a tool; streamed in pieces (arguments split across chunks) when the request streams. */
export function toolCallAnswer(name: string, args: Record<string, unknown>, callId = 'call_1'): Behaviour {
  return (response, attempt) => {
    const argumentsText = JSON.stringify(args);
    if (!attempt.stream) {
      response.writeHead(200, { 'content-type': 'application/json' });
      const toolCalls = [{ id: callId, type: 'function', function: { name, arguments: argumentsText } }];
      response.end(JSON.stringify(completion({ content: null, tool_calls: toolCalls }, 'tool_calls')));
      return;
    }
    const half = Math.floor(argumentsText.length / 2);
    sendStream(response, [
      chunk({ role: 'assistant', content: null }),
      chunk({
        tool_calls: [{ index: 0, id: callId, type: 'function', function: { name, arguments: '' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: argumentsText.slice(0, half) } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: argumentsText.slice(half) } }] }),
      chunk({}, 'tool_calls'),
    ]);
  };
}
