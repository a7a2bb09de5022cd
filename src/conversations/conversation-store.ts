import { randomBytes } from 'node:crypto';
import type { ChatMessage } from '../providers/openai-types.js';
import type { Database } from '../storage/tables.js';

/** A conversation as stored; `owner` is the key id of its creator (or `anonymous`). */
export interface ConversationRecord {
  readonly id: string;
  readonly owner: string;
  readonly metadata: Record<string, string>;
  readonly itemCount: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One stored turn; `position` is its place in the conversation, from 1, without gaps. */
export interface ConversationItem {
  readonly position: number;
  readonly message: ChatMessage;
  readonly createdAt: Date;
}

export interface ItemPage {
  readonly items: ConversationItem[];
  readonly hasMore: boolean;
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

function newConversationId(): string {
  return `conv_${randomBytes(24).toString('hex')}`;
}

/**
 * SQL for conversations. Every call is scoped to an owner: a conversation of another owner reads
 * as missing. Turns are appended under a row lock on the conversation, so concurrent completions
 * each add their turns as one contiguous run and none is lost.
 */
export function createConversationStore(db: Database) {
  function toRecord(row: {
    id: string;
    owner: string;
    metadata: unknown;
    item_count: number;
    created_at: Date | string;
    updated_at: Date | string;
  }): ConversationRecord {
    return {
      id: row.id,
      owner: row.owner,
      metadata: (parseJson(row.metadata) as Record<string, string>) ?? {},
      itemCount: row.item_count,
      createdAt: toDate(row.created_at),
      updatedAt: toDate(row.updated_at),
    };
  }

  function toItem(row: { position: number; message: unknown; created_at: Date | string }): ConversationItem {
    return {
      position: row.position,
      message: parseJson(row.message) as ChatMessage,
      createdAt: toDate(row.created_at),
    };
  }

  async function get(owner: string, id: string): Promise<ConversationRecord | undefined> {
    const row = await db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', id)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  return {
    get,

    /** Creates a conversation and its initial items in one transaction. */
    async create(
      owner: string,
      metadata: Record<string, string>,
      messages: readonly ChatMessage[],
    ): Promise<ConversationRecord> {
      return db.transaction().execute(async (transaction) => {
        const row = await transaction
          .insertInto('conversations')
          .values({
            id: newConversationId(),
            owner,
            metadata: JSON.stringify(metadata),
            item_count: messages.length,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (messages.length > 0) {
          await transaction
            .insertInto('conversation_items')
            .values(
              messages.map((message, index) => ({
                conversation_id: row.id,
                position: index + 1,
                message: JSON.stringify(message),
              })),
            )
            .execute();
        }
        return toRecord(row);
      });
    },

    /** Deletes a conversation and its items; false when the owner has no such conversation. */
    async delete(owner: string, id: string): Promise<boolean> {
      const row = await db
        .deleteFrom('conversations')
        .where('id', '=', id)
        .where('owner', '=', owner)
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Every stored message in order; undefined when the owner has no such conversation. */
    async history(owner: string, id: string): Promise<ChatMessage[] | undefined> {
      if (!(await get(owner, id))) return undefined;
      const rows = await db
        .selectFrom('conversation_items')
        .select('message')
        .where('conversation_id', '=', id)
        .orderBy('position', 'asc')
        .execute();
      return rows.map((row) => parseJson(row.message) as ChatMessage);
    },

    /** A page of items after a position (exclusive), in either order. */
    async items(
      owner: string,
      id: string,
      page: { limit: number; after: number | undefined; order: 'asc' | 'desc' },
    ): Promise<ItemPage | undefined> {
      if (!(await get(owner, id))) return undefined;
      let query = db
        .selectFrom('conversation_items')
        .select(['position', 'message', 'created_at'])
        .where('conversation_id', '=', id)
        .orderBy('position', page.order)
        .limit(page.limit + 1);
      if (page.after !== undefined) {
        query = query.where('position', page.order === 'asc' ? '>' : '<', page.after);
      }
      const rows = await query.execute();
      return { items: rows.slice(0, page.limit).map(toItem), hasMore: rows.length > page.limit };
    },

    /**
     * Appends messages after the last stored one, atomically: the conversation row is locked
     * (SELECT … FOR UPDATE) for the transaction, so a concurrent append waits and then continues
     * from the new end. Returns the position of the last item, or undefined when the owner has no
     * such conversation (deleted meanwhile).
     */
    async append(owner: string, id: string, messages: readonly ChatMessage[]): Promise<number | undefined> {
      return db.transaction().execute(async (transaction) => {
        const locked = await transaction
          .selectFrom('conversations')
          .select('item_count')
          .where('id', '=', id)
          .where('owner', '=', owner)
          .forUpdate()
          .executeTakeFirst();
        if (!locked) return undefined;
        const end = locked.item_count + messages.length;
        if (messages.length === 0) return end;
        await transaction
          .insertInto('conversation_items')
          .values(
            messages.map((message, index) => ({
              conversation_id: id,
              position: locked.item_count + index + 1,
              message: JSON.stringify(message),
            })),
          )
          .execute();
        await transaction
          .updateTable('conversations')
          .set({ item_count: end, updated_at: new Date() })
          .where('id', '=', id)
          .execute();
        return end;
      });
    },
  };
}

export type ConversationStore = ReturnType<typeof createConversationStore>;
