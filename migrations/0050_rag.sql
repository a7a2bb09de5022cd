-- Retrieval-augmented chat (src/rag): collections, documents and the ingestion job queue.
-- The chunk table needs the pgvector extension and the embedding size, so src/rag/vector-store.ts
-- creates it when RAG is enabled; these tables need neither and exist everywhere.

create table rag_collections (
  id text primary key,
  -- The key that created it (`anonymous` in dev mode without keys); every query is scoped to it.
  owner text not null,
  name text not null,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  unique (owner, name)
);

create table rag_documents (
  id text primary key,
  collection_id text not null references rag_collections (id) on delete cascade,
  name text,
  content_type text not null,
  -- The extracted text; chunk offsets point into it.
  content text not null,
  content_hash text not null,
  metadata jsonb not null default '{}'::jsonb,
  status text not null default 'queued',
  error text,
  chunk_count integer not null default 0,
  token_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Re-ingesting the same content is a no-op.
  unique (collection_id, content_hash)
);
create index rag_documents_collection on rag_documents (collection_id, created_at);

create table rag_jobs (
  id bigserial primary key,
  document_id text not null references rag_documents (id) on delete cascade,
  content_hash text not null,
  status text not null default 'queued',
  attempts integer not null default 0,
  max_attempts integer not null,
  run_at timestamptz not null default now(),
  -- Fencing token of the worker holding the job; only it may complete or fail the job.
  lease_token text,
  leased_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Only active jobs are scanned when claiming; failed ones stay for inspection.
create index rag_jobs_claimable on rag_jobs (run_at, id) where status in ('queued', 'running');
create index rag_jobs_document on rag_jobs (document_id);
