import { GatewayError } from '../errors/gateway-error.js';
import type { ChatCompletion, ChatCompletionRequest, ChatMessage } from '../providers/openai-types.js';
import type { Principal } from '../server/authenticate.js';
import type { ChatConversations } from '../server/request-policy.js';

/** A chat completion that names a conversation: what goes upstream, and how its turns are kept. */
export interface ConversationTurn {
  /** The caller's request without `conversation`, with the stored turns ahead of its messages. */
  readonly request: ChatCompletionRequest;
  /** Appends the caller's messages and the answer in one transaction; throws (404, 503) if it cannot. */
  commit(answer: ChatCompletion | undefined): Promise<void>;
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

/** The conversation id named by the body field (`"conv_…"` or `{"id": "conv_…"}`) or the header. */
function conversationId(field: unknown, header: string | string[] | undefined): string | undefined {
  let fromBody: string | undefined;
  if (typeof field === 'string') fromBody = field;
  else if (
    typeof field === 'object' &&
    field !== null &&
    typeof (field as { id?: unknown }).id === 'string'
  ) {
    fromBody = (field as { id: string }).id;
  } else if (field !== undefined && field !== null) {
    throw invalid("Invalid value for 'conversation': expected a conversation id string.", 'conversation');
  }
  if (Array.isArray(header)) {
    throw invalid('Send the x-gantry-conversation header once.', 'x-gantry-conversation');
  }
  if (fromBody !== undefined && header !== undefined && fromBody !== header) {
    throw invalid(
      "The 'conversation' field and the x-gantry-conversation header name different conversations.",
      'conversation',
    );
  }
  const id = fromBody ?? header;
  if (id === '') throw invalid("Invalid value for 'conversation': the id is empty.", 'conversation');
  return id;
}

/** The answer as a stored turn: what a later request needs, without per-response fields. */
function assistantTurn(message: ChatCompletion['choices'][number]['message']): ChatMessage {
  return {
    role: 'assistant',
    content: message.content ?? null,
    ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}),
    ...(typeof message.refusal === 'string' ? { refusal: message.refusal } : {}),
  };
}

/**
 * Resolves the conversation a chat completion names, if any, and loads its stored turns. The
 * `conversation` field never reaches the upstream. Undefined when no conversation is named.
 */
export async function openConversationTurn(
  conversations: ChatConversations | undefined,
  principal: Principal | undefined,
  body: ChatCompletionRequest,
  header: string | string[] | undefined,
): Promise<ConversationTurn | undefined> {
  if (body.conversation === undefined && header === undefined) return undefined;
  const { conversation: field, ...request } = body;
  const id = conversationId(field, header);
  // `"conversation": null` names none; the field is only kept from the upstream.
  if (id === undefined) return { request, commit: async () => {} };
  if (!conversations) {
    throw invalid('Conversations need the state services, which this server runs without.', 'conversation');
  }
  // One answer per turn: with n > 1 there would be no single assistant turn to keep.
  if ((body.n ?? 1) > 1) throw invalid("'n' must be 1 when a conversation is named.", 'n');
  const history = await conversations.history(principal, id);
  return {
    request: { ...request, messages: [...history, ...body.messages] },
    async commit(answer) {
      const message = answer?.choices.find((choice) => choice.index === 0)?.message;
      if (!message) {
        throw new GatewayError(
          'upstream_bad_response',
          'The upstream answer had no message; the conversation was not updated.',
        );
      }
      await conversations.append(principal, id, [...body.messages, assistantTurn(message)]);
    },
  };
}
