import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { conversationNotFound, storeUnavailable } from '../../conversations/chat-conversations.js';
import { conversationOwner } from '../../conversations/conversation-owner.js';
import type {
  ConversationItem,
  ConversationRecord,
  ConversationStore,
} from '../../conversations/conversation-store.js';
import type { ChatMessage } from '../../providers/openai-types.js';
import { chatMessageSchema } from '../schemas/chat-completion-request.js';
import { validate } from '../validate.js';

export interface ConversationRoutesDependencies {
  readonly conversations: () => ConversationStore;
}

/** OpenAI's metadata limits: 16 pairs, keys up to 64 characters, values up to 512. */
const metadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((metadata) => Object.keys(metadata).length <= 16, 'at most 16 key-value pairs');

/** A chat message; the Responses-style wrapper fields (`type: "message"`, `id`) are dropped. */
const itemSchema = z.preprocess((value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const { type, id: _id, ...message } = value as Record<string, unknown>;
  return type === undefined || type === 'message' ? message : value;
}, chatMessageSchema);

const createSchema = z
  .object({
    metadata: metadataSchema.nullable().optional(),
    items: z.array(itemSchema).max(1000).optional(),
  })
  .strict();

const ITEM_ID = /^item_(\d{1,9})$/;

const itemsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    after: z.string().regex(ITEM_ID, 'expected an item id such as item_12').optional(),
    order: z.enum(['asc', 'desc']).default('asc'),
  })
  .strict();

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function conversationView(record: ConversationRecord) {
  return {
    id: record.id,
    object: 'conversation',
    created_at: seconds(record.createdAt),
    metadata: record.metadata,
    item_count: record.itemCount,
  };
}

/** An item: its id (`item_<position>`), `type: "message"` and the chat message's own fields. */
function itemView(item: ConversationItem) {
  const { id: _id, type: _type, ...message } = item.message as ChatMessage & { id?: unknown; type?: unknown };
  return { id: `item_${item.position}`, type: 'message', ...message, created_at: seconds(item.createdAt) };
}

/**
 * /v1/conversations: create (with metadata and initial items), read, delete, and list items in
 * order with cursor pagination. Every route sees only the caller's own conversations.
 */
export function registerConversations(app: FastifyInstance, deps: ConversationRoutesDependencies) {
  const store = <T>(work: (conversations: ConversationStore) => Promise<T>): Promise<T> =>
    work(deps.conversations()).catch((error: unknown) => {
      throw storeUnavailable(error);
    });

  app.post('/v1/conversations', async (request) => {
    const body = validate(createSchema, request.body ?? {});
    const owner = conversationOwner(request.gantry.principal);
    const items = (body.items ?? []) as ChatMessage[];
    const record = await store((conversations) => conversations.create(owner, body.metadata ?? {}, items));
    return conversationView(record);
  });

  app.get<{ Params: { id: string } }>('/v1/conversations/:id', async (request) => {
    const { id } = request.params;
    const owner = conversationOwner(request.gantry.principal);
    const record = await store((conversations) => conversations.get(owner, id));
    if (!record) throw conversationNotFound(id);
    return conversationView(record);
  });

  app.delete<{ Params: { id: string } }>('/v1/conversations/:id', async (request) => {
    const { id } = request.params;
    const owner = conversationOwner(request.gantry.principal);
    const deleted = await store((conversations) => conversations.delete(owner, id));
    if (!deleted) throw conversationNotFound(id);
    return { id, object: 'conversation.deleted', deleted: true };
  });

  app.get<{ Params: { id: string } }>('/v1/conversations/:id/items', async (request) => {
    const { id } = request.params;
    const query = validate(itemsQuerySchema, request.query ?? {});
    const owner = conversationOwner(request.gantry.principal);
    const after = query.after === undefined ? undefined : Number(ITEM_ID.exec(query.after)![1]);
    const page = await store((conversations) =>
      conversations.items(owner, id, { limit: query.limit, after, order: query.order }),
    );
    if (!page) throw conversationNotFound(id);
    const data = page.items.map(itemView);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: page.hasMore,
    };
  });
}
