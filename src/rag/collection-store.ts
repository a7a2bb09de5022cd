import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { GatewayError } from '../errors/gateway-error.js';
import type { DocumentType } from './document-type.js';
import { contentHash, extractText } from './extract-text.js';
import { enqueueJob } from './job-queue.js';
import type { RagDatabase } from './rag-tables.js';
import { toVectorLiteral, versionAtLeast } from './vector-store.js';

export interface Collection {
  id: string;
  object: 'collection';
  name: string;
  metadata: Record<string, unknown>;
  created_at: number;
}

export interface DocumentInfo {
  id: string;
  object: 'collection.document';
  collection_id: string;
  name: string | null;
  content_type: string;
  content_hash: string;
  metadata: Record<string, unknown>;
  status: string;
  error: string | null;
  chunk_count: number;
  token_count: number;
  created_at: number;
  updated_at: number;
}

export interface SearchHit {
  document_id: string;
  document_name: string | null;
  chunk_index: number;
  score: number;
  text: string;
  start_offset: number;
  end_offset: number;
  metadata: Record<string, unknown>;
}

export interface NewDocument {
  readonly name: string | undefined;
  readonly type: DocumentType;
  readonly content: string;
  readonly metadata: Record<string, unknown>;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const seconds = (value: Date | string) => Math.floor(new Date(value).getTime() / 1000);

const notFound = (what: string, id: string) =>
  new GatewayError('not_found', `No ${what} found with id '${id}'.`, { param: null });

/**
 * Collections, documents and search, always scoped to an owner (the calling key). A collection is
 * addressed by id or by its name; another owner's collection is indistinguishable from none.
 */
export function createCollectionStore(
  db: RagDatabase,
  options: { maxAttempts: number; pgvector: () => string },
) {
  /** `owner` may list several owners, most preferred first (an alias's collection may be the operator's). */
  async function resolve(owner: string | readonly string[], idOrName: string) {
    const owners = typeof owner === 'string' ? [owner] : owner;
    const rows = await db
      .selectFrom('rag_collections')
      .selectAll()
      .where('owner', 'in', owners)
      .where((where) => where.or([where('id', '=', idOrName), where('name', '=', idOrName)]))
      .execute();
    const rank = (candidate: (typeof rows)[number]) =>
      owners.indexOf(candidate.owner) * 2 + (candidate.id === idOrName ? 0 : 1);
    const row = rows.sort((left, right) => rank(left) - rank(right))[0];
    if (!row) throw notFound('collection', idOrName);
    return row;
  }

  const toCollection = (row: Awaited<ReturnType<typeof resolve>>): Collection => ({
    id: row.id,
    object: 'collection',
    name: row.name,
    metadata: row.metadata,
    created_at: seconds(row.created_at),
  });

  const documentColumns = [
    'id',
    'collection_id',
    'name',
    'content_type',
    'content_hash',
    'metadata',
    'status',
    'error',
    'chunk_count',
    'token_count',
    'created_at',
    'updated_at',
  ] as const;

  type DocumentRow = {
    [K in (typeof documentColumns)[number]]: K extends 'created_at' | 'updated_at'
      ? Date
      : K extends 'metadata'
        ? Record<string, unknown>
        : K extends 'chunk_count' | 'token_count'
          ? number
          : K extends 'name' | 'error'
            ? string | null
            : string;
  };
  const toDocument = (row: DocumentRow): DocumentInfo => ({
    object: 'collection.document',
    ...row,
    chunk_count: Number(row.chunk_count),
    token_count: Number(row.token_count),
    created_at: seconds(row.created_at),
    updated_at: seconds(row.updated_at),
  });

  return {
    /** Creates a collection, or returns the owner's existing one of that name (`created: false`). */
    async create(owner: string, name: string, metadata: Record<string, unknown>) {
      const inserted = await db
        .insertInto('rag_collections')
        .values({ id: newId('col'), owner, name, metadata: JSON.stringify(metadata), created_at: new Date() })
        .onConflict((conflict) => conflict.columns(['owner', 'name']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { collection: toCollection(inserted), created: true };
      return { collection: toCollection(await resolve(owner, name)), created: false };
    },

    /** The collection with its documents counted by status (ingestion progress). */
    async get(owner: string, idOrName: string) {
      const row = await resolve(owner, idOrName);
      const counts = await db
        .selectFrom('rag_documents')
        .select(['status', db.fn.countAll<string>().as('count')])
        .where('collection_id', '=', row.id)
        .groupBy('status')
        .execute();
      const documents = { total: 0, queued: 0, processing: 0, ready: 0, failed: 0 };
      for (const count of counts) {
        documents[count.status] = Number(count.count);
        documents.total += Number(count.count);
      }
      return { ...toCollection(row), documents };
    },

    async list(owner: string) {
      const rows = await db
        .selectFrom('rag_collections')
        .selectAll()
        .where('owner', '=', owner)
        .orderBy('created_at')
        .execute();
      return rows.map(toCollection);
    },

    /** Deletes the collection with its documents, chunks and jobs (cascade). */
    async remove(owner: string, idOrName: string) {
      const row = await resolve(owner, idOrName);
      await db.deleteFrom('rag_collections').where('id', '=', row.id).execute();
      return row.id;
    },

    /**
     * Adds documents and queues their ingestion in one transaction. Content already in the
     * collection (same hash of the extracted text) is not added again: its existing document is
     * returned with `deduplicated: true`.
     */
    async addDocuments(owner: string, idOrName: string, documents: readonly NewDocument[]) {
      const collection = await resolve(owner, idOrName);
      return db.transaction().execute(async (transaction) => {
        const results: Array<DocumentInfo & { deduplicated: boolean }> = [];
        for (const document of documents) {
          const text = extractText(document.content, document.type);
          const hash = contentHash(text);
          const id = newId('doc');
          const inserted = await transaction
            .insertInto('rag_documents')
            .values({
              id,
              collection_id: collection.id,
              name: document.name ?? null,
              content_type: document.type,
              content: text,
              content_hash: hash,
              metadata: JSON.stringify(document.metadata),
              status: 'queued',
              error: null,
              created_at: new Date(),
              updated_at: new Date(),
            })
            .onConflict((conflict) => conflict.columns(['collection_id', 'content_hash']).doNothing())
            .returning(documentColumns)
            .executeTakeFirst();
          if (inserted) {
            await enqueueJob(transaction, id, hash, options.maxAttempts);
            results.push({ ...toDocument(inserted as DocumentRow), deduplicated: false });
            continue;
          }
          const existing = await transaction
            .selectFrom('rag_documents')
            .select(documentColumns)
            .where('collection_id', '=', collection.id)
            .where('content_hash', '=', hash)
            .executeTakeFirstOrThrow();
          results.push({ ...toDocument(existing as DocumentRow), deduplicated: true });
        }
        return results;
      });
    },

    async listDocuments(
      owner: string,
      idOrName: string,
      page: { limit: number; after?: string | undefined },
    ) {
      const collection = await resolve(owner, idOrName);
      let query = db
        .selectFrom('rag_documents')
        .select(documentColumns)
        .where('collection_id', '=', collection.id)
        .orderBy('id')
        .limit(page.limit + 1);
      if (page.after) query = query.where('id', '>', page.after);
      const rows = (await query.execute()) as DocumentRow[];
      const data = rows.slice(0, page.limit).map(toDocument);
      return { data, has_more: rows.length > page.limit, last_id: data.at(-1)?.id ?? null };
    },

    async getDocument(owner: string, idOrName: string, documentId: string, withContent: boolean) {
      const collection = await resolve(owner, idOrName);
      const row = await db
        .selectFrom('rag_documents')
        .select([...documentColumns, 'content'])
        .where('collection_id', '=', collection.id)
        .where('id', '=', documentId)
        .executeTakeFirst();
      if (!row) throw notFound('document', documentId);
      const { content, ...rest } = row;
      return { ...toDocument(rest as DocumentRow), ...(withContent ? { content } : {}) };
    },

    async removeDocument(owner: string, idOrName: string, documentId: string) {
      const collection = await resolve(owner, idOrName);
      const result = await db
        .deleteFrom('rag_documents')
        .where('collection_id', '=', collection.id)
        .where('id', '=', documentId)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound('document', documentId);
    },

    /** Nearest chunks by cosine similarity (HNSW), optionally filtered by document metadata or ids. */
    async search(
      owner: string | readonly string[],
      idOrName: string,
      query: {
        vector: readonly number[];
        topK: number;
        metadata?: Record<string, unknown>;
        documentIds?: string[];
      },
    ): Promise<SearchHit[]> {
      const collection = await resolve(owner, idOrName);
      const vector = toVectorLiteral(query.vector);
      return db.transaction().execute(async (transaction) => {
        // Filtered HNSW scans stop at ef_search candidates; iterative scans (pgvector >= 0.8) keep
        // going until top_k rows pass the filter, so a small collection in a big table is found.
        if (versionAtLeast(options.pgvector(), 0, 8)) {
          await sql`set local hnsw.iterative_scan = relaxed_order`.execute(transaction);
        }
        await sql.raw(`set local hnsw.ef_search = ${Math.max(100, query.topK * 4)}`).execute(transaction);
        let select = transaction
          .selectFrom('rag_chunks')
          .select([
            'document_id',
            'ordinal',
            'content',
            'start_offset',
            'end_offset',
            'metadata',
            sql<number>`1 - (embedding <=> ${vector}::vector)`.as('score'),
          ])
          .where('collection_id', '=', collection.id);
        if (query.metadata && Object.keys(query.metadata).length > 0) {
          select = select.where(sql<boolean>`metadata @> ${JSON.stringify(query.metadata)}::jsonb`);
        }
        if (query.documentIds && query.documentIds.length > 0) {
          select = select.where('document_id', 'in', query.documentIds);
        }
        // No join here: ORDER BY distance LIMIT k on the chunk table alone is what the HNSW index serves.
        const rows = await select.orderBy(sql`embedding <=> ${vector}::vector`).limit(query.topK).execute();
        const ids = [...new Set(rows.map((row) => row.document_id))];
        const names = new Map<string, string | null>();
        if (ids.length > 0) {
          const documents = await transaction
            .selectFrom('rag_documents')
            .select(['id', 'name'])
            .where('id', 'in', ids)
            .execute();
          for (const document of documents) names.set(document.id, document.name);
        }
        return rows.map((row) => ({
          document_id: row.document_id,
          document_name: names.get(row.document_id) ?? null,
          chunk_index: Number(row.ordinal),
          score: Number(row.score),
          text: row.content,
          start_offset: Number(row.start_offset),
          end_offset: Number(row.end_offset),
          metadata: row.metadata,
        }));
      });
    },
  };
}

export type CollectionStore = ReturnType<typeof createCollectionStore>;
