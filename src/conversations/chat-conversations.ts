import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import type { ChatConversations } from '../server/request-policy.js';
import { conversationOwner } from './conversation-owner.js';
import type { ConversationStore } from './conversation-store.js';

export function conversationNotFound(id: string, param: string | null = null): GatewayError {
  return new GatewayError('not_found', `No conversation found with id '${id}'.`, { param });
}

/** A database failure is the gateway's problem, not the caller's: 503, worth a retry. */
export function storeUnavailable(error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  return new GatewayError('service_unavailable', 'The conversation store is unavailable; retry shortly.', {
    cause: error,
    retryAfterSeconds: 1,
  });
}

/** The chat route's view of stored conversations, with errors from the catalogue. */
export function createChatConversations(store: () => ConversationStore): ChatConversations {
  return {
    async history(principal, id) {
      let messages: Awaited<ReturnType<ConversationStore['history']>>;
      try {
        messages = await store().history(conversationOwner(principal), id);
      } catch (error) {
        throw storeUnavailable(error);
      }
      if (!messages) throw conversationNotFound(id, 'conversation');
      return messages;
    },
    async append(principal, id, turns) {
      let end: number | undefined;
      try {
        end = await store().append(conversationOwner(principal), id, turns);
      } catch (error) {
        throw storeUnavailable(error);
      }
      if (end === undefined) throw conversationNotFound(id, 'conversation');
    },
  };
}
