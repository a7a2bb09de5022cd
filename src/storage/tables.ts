import type { ColumnType, Generated, Kysely } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface ApiKeysTable {
  id: string;
  name: string;
  secret_hash: string;
  allowed_models: Json<string[] | null> | null;
  rpm: number | null;
  tpm: number | null;
  budget_usd: number | null;
  budget_period: 'daily' | 'monthly' | 'total' | null;
  expires_at: Timestamp | null;
  metadata: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface UsageRecordsTable {
  id: string;
  request_id: string;
  key_id: string | null;
  alias: string;
  deployment: string | null;
  upstream_model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  status: number;
  cache_hit: boolean;
  created_at: Timestamp;
}

export interface UsageBatchesTable {
  id: string;
  written_at: Timestamp;
}

export interface ConversationsTable {
  id: string;
  owner: string;
  metadata: Json<Record<string, unknown>>;
  item_count: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ConversationItemsTable {
  conversation_id: string;
  position: number;
  message: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface GantryMigrationsTable {
  version: number;
  name: string;
  applied_at: Timestamp;
}

/** The schema as Kysely sees it; migrations/*.sql is the source of truth. */
export interface Tables {
  api_keys: ApiKeysTable;
  usage_records: UsageRecordsTable;
  usage_batches: UsageBatchesTable;
  conversations: ConversationsTable;
  conversation_items: ConversationItemsTable;
  gantry_migrations: GantryMigrationsTable;
}

export type Database = Kysely<Tables>;
