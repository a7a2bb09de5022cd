import { sql } from 'kysely';
import type { Logger } from '../telemetry/logger.js';
import type { RagDatabase } from './rag-tables.js';

/** Shared by every Gantry process: serialises `create extension` and the chunk table's DDL. */
const VECTOR_SCHEMA_LOCK_ID = 7_342_050;

export interface VectorStoreInfo {
  readonly dimensions: number;
  /** pgvector's version; 0.8 brought iterative index scans for filtered searches. */
  readonly version: string;
}

/** The pgvector text form of a vector. */
export function toVectorLiteral(vector: readonly number[]): string {
  return `[${vector.join(',')}]`;
}

/**
 * Makes sure pgvector and the chunk table (with its HNSW cosine index) exist, with `dimensions`
 * from the setting, the existing table, or `probe` (one embedding) — in that order of knowledge.
 * Throws an Error naming the extension and the setting when pgvector is missing.
 */
export async function ensureVectorStore(
  db: RagDatabase,
  options: { dimensions: number | undefined; probe: () => Promise<number>; logger: Logger },
): Promise<VectorStoreInfo> {
  const available = await sql<{ name: string }>`
    select name from pg_available_extensions where name = 'vector'`.execute(db);
  if (available.rows.length === 0) {
    throw new Error(
      'rag.enabled (RAG_ENABLED): the PostgreSQL server has no pgvector extension ("vector"); ' +
        'install it (e.g. the pgvector/pgvector:pg17 image, or the postgresql-NN-pgvector package) ' +
        'or set RAG_ENABLED=false',
    );
  }
  const existing = await existingDimensions(db);
  // Probing may call an upstream: do it before taking the lock, and only when nothing says the size.
  const dimensions = existing ?? options.dimensions ?? (await options.probe());
  if (existing !== undefined && options.dimensions !== undefined && existing !== options.dimensions) {
    throw new Error(
      `rag.dimensions: the vector store holds ${existing}-dimension embeddings but ${options.dimensions} ` +
        'are configured; use the same embedding model, or drop the rag_chunks table to re-ingest',
    );
  }
  await db.transaction().execute(async (transaction) => {
    await sql`select pg_advisory_xact_lock(${VECTOR_SCHEMA_LOCK_ID})`.execute(transaction);
    try {
      await sql`create extension if not exists vector`.execute(transaction);
    } catch (error) {
      throw new Error(
        `rag.enabled (RAG_ENABLED): cannot create the pgvector extension ("vector"): ${(error as Error).message}; ` +
          'run `create extension vector` as a superuser once, or set RAG_ENABLED=false',
      );
    }
    await sql
      .raw(`create table if not exists rag_chunks (
        id bigserial primary key,
        document_id text not null references rag_documents (id) on delete cascade,
        collection_id text not null,
        ordinal integer not null,
        content text not null,
        start_offset integer not null,
        end_offset integer not null,
        token_count integer not null,
        metadata jsonb not null default '{}'::jsonb,
        embedding vector(${dimensions}) not null,
        unique (document_id, ordinal)
      )`)
      .execute(transaction);
    await sql`create index if not exists rag_chunks_collection on rag_chunks (collection_id)`.execute(
      transaction,
    );
    await sql`create index if not exists rag_chunks_embedding on rag_chunks
      using hnsw (embedding vector_cosine_ops)`.execute(transaction);
  });
  const version = await sql<{ extversion: string }>`
    select extversion from pg_extension where extname = 'vector'`.execute(db);
  const info = { dimensions, version: version.rows[0]?.extversion ?? 'unknown' };
  options.logger.info({ pgvector: info.version, dimensions }, 'vector store ready');
  return info;
}

async function existingDimensions(db: RagDatabase): Promise<number | undefined> {
  // For pgvector's type the type modifier is the dimension count.
  const result = await sql<{ dimensions: number }>`
    select a.atttypmod as dimensions from pg_attribute a
    where a.attrelid = to_regclass('rag_chunks') and a.attname = 'embedding'`.execute(db);
  const dimensions = result.rows[0]?.dimensions;
  return dimensions !== undefined && dimensions > 0 ? Number(dimensions) : undefined;
}

/** Whether `version` (like "0.8.0") is at least major.minor. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [actualMajor = 0, actualMinor = 0] = version.split('.').map(Number);
  return actualMajor > major || (actualMajor === major && actualMinor >= minor);
}
