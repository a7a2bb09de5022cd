import type { ColumnType, Generated, Kysely } from 'kysely';
import type { Tables } from '../storage/tables.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface RagCollectionsTable {
  id: string;
  owner: string;
  name: string;
  metadata: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export type DocumentStatus = 'queued' | 'processing' | 'ready' | 'failed';

export interface RagDocumentsTable {
  id: string;
  collection_id: string;
  name: string | null;
  content_type: string;
  content: string;
  content_hash: string;
  metadata: Json<Record<string, unknown>>;
  status: DocumentStatus;
  error: string | null;
  chunk_count: Generated<number>;
  token_count: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RagJobsTable {
  id: Generated<string>;
  document_id: string;
  content_hash: string;
  status: 'queued' | 'running' | 'failed';
  attempts: Generated<number>;
  max_attempts: number;
  run_at: Timestamp;
  lease_token: string | null;
  leased_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Created by vector-store.ts (it needs pgvector and the embedding size), not by a migration. */
export interface RagChunksTable {
  id: Generated<string>;
  document_id: string;
  collection_id: string;
  ordinal: number;
  content: string;
  start_offset: number;
  end_offset: number;
  token_count: number;
  metadata: Json<Record<string, unknown>>;
  /** pgvector text form: "[0.1,0.2,…]". */
  embedding: string;
}

export interface RagTables {
  rag_collections: RagCollectionsTable;
  rag_documents: RagDocumentsTable;
  rag_jobs: RagJobsTable;
  rag_chunks: RagChunksTable;
}

export type RagDatabase = Kysely<Tables & RagTables>;
