import { GatewayError } from '../../errors/gateway-error.js';
import type { ChatCompletionRequest, ChatMessage, ContentPart, ToolChoice } from '../openai-types.js';
import type {
  AnthropicBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicToolChoice,
} from './anthropic-types.js';

// Anthropic requires max_tokens; OpenAI callers often leave it out.
const DEFAULT_MAX_TOKENS = 4096;

function textOf(
  content: string | ReadonlyArray<{ type: string; text?: unknown }> | null | undefined,
): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content ?? []) if (typeof part.text === 'string') text += part.text;
  return text;
}

function imageBlock(url: string, param: string): AnthropicBlock {
  const inline = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (inline) return { type: 'image', source: { type: 'base64', media_type: inline[1]!, data: inline[2]! } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw new GatewayError('invalid_request', 'image_url.url must be an http(s) URL or a base64 data: URL', {
    param,
  });
}

function userContent(content: string | ContentPart[], index: number): string | AnthropicBlock[] {
  if (typeof content === 'string') return content;
  return content.map((part, partIndex): AnthropicBlock => {
    const param = `messages[${index}].content[${partIndex}]`;
    if (part.type === 'text') return { type: 'text', text: String(part.text) };
    if (part.type === 'image_url') {
      return imageBlock(
        String((part.image_url as { url?: unknown } | undefined)?.url),
        `${param}.image_url.url`,
      );
    }
    throw new GatewayError(
      'unsupported_parameter',
      `anthropic does not accept content parts of type ${part.type}`,
      {
        param: `${param}.type`,
      },
    );
  });
}

function toolInput(argumentsText: string, param: string): unknown {
  if (argumentsText.trim() === '') return {};
  try {
    return JSON.parse(argumentsText);
  } catch {
    throw new GatewayError('invalid_request', `${param} is not valid JSON`, { param });
  }
}

function assistantContent(
  message: Extract<ChatMessage, { role: 'assistant' }>,
  index: number,
): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = [];
  const text = textOf(message.content);
  if (text !== '') blocks.push({ type: 'text', text });
  message.tool_calls?.forEach((call, callIndex) => {
    const param = `messages[${index}].tool_calls[${callIndex}].function.arguments`;
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments, param),
    });
  });
  return blocks;
}

function toolChoice(
  choice: ToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  const base: AnthropicToolChoice | undefined =
    choice === undefined
      ? undefined
      : typeof choice === 'object'
        ? { type: 'tool', name: choice.function.name }
        : { type: choice === 'required' ? 'any' : choice };
  if (parallel !== false) return base;
  return { ...(base ?? { type: 'auto' }), disable_parallel_tool_use: true };
}

// Anthropic has no JSON mode; asking in the system prompt is the closest equivalent that still
// works alongside tools and streams.
function jsonInstruction(request: ChatCompletionRequest): string | undefined {
  const format = request.response_format;
  if (format?.type === 'json_object') return 'Respond with a single valid JSON object and nothing else.';
  if (format?.type === 'json_schema') {
    const schema = JSON.stringify(format.json_schema.schema ?? {});
    return `Respond with a single JSON value, and nothing else, that conforms to this JSON schema: ${schema}`;
  }
  return undefined;
}

/** Converts an OpenAI chat request to an Anthropic Messages request. */
export function toAnthropicRequest(request: ChatCompletionRequest, stream: boolean): AnthropicRequest {
  if ((request.n ?? 1) !== 1) {
    throw new GatewayError('unsupported_parameter', 'anthropic returns a single choice; n must be 1', {
      param: 'n',
    });
  }
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  // Results of one assistant turn's tool calls belong together in the next user turn.
  let toolResults: AnthropicBlock[] | undefined;
  request.messages.forEach((message, index) => {
    if (message.role !== 'tool') toolResults = undefined;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(textOf(message.content));
        break;
      case 'user':
        messages.push({ role: 'user', content: userContent(message.content, index) });
        break;
      case 'assistant': {
        const content = assistantContent(message, index);
        if (content.length > 0) messages.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const block: AnthropicBlock = {
          type: 'tool_result',
          tool_use_id: message.tool_call_id,
          content: textOf(message.content),
        };
        if (toolResults) toolResults.push(block);
        else {
          toolResults = [block];
          messages.push({ role: 'user', content: toolResults });
        }
        break;
      }
    }
  });
  const instruction = jsonInstruction(request);
  if (instruction) system.push(instruction);

  const body: AnthropicRequest = {
    model: request.model,
    messages,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS,
  };
  if (system.length > 0) body.system = system.join('\n\n');
  if (request.stop != null)
    body.stop_sequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.temperature != null) body.temperature = request.temperature;
  if (request.top_p != null) body.top_p = request.top_p;
  if (request.user) body.metadata = { user_id: request.user };
  if (request.tools?.length) {
    body.tools = request.tools.map(({ function: fn }) => ({
      name: fn.name,
      ...(fn.description === undefined ? {} : { description: fn.description }),
      input_schema: fn.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = toolChoice(request.tool_choice, request.parallel_tool_calls);
    if (choice) body.tool_choice = choice;
  }
  if (stream) body.stream = true;
  return body;
}
