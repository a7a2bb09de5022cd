import type { Database } from '../storage/tables.js';
import { generateKey } from './key-format.js';

export type BudgetPeriod = 'daily' | 'monthly' | 'total';

/** The largest `rpm` or `tpm` a key can hold: both are Postgres `integer` columns. */
export const KEY_LIMIT_MAX = 2_147_483_647;

/** A virtual key as the gateway sees it (never with its secret). */
export interface KeyRecord {
  readonly id: string;
  readonly name: string;
  readonly secretHash: string;
  readonly allowedModels: readonly string[] | null;
  readonly rpm: number | null;
  readonly tpm: number | null;
  readonly budgetUsd: number | null;
  readonly budgetPeriod: BudgetPeriod | null;
  readonly expiresAt: Date | null;
  readonly metadata: Record<string, unknown>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly revokedAt: Date | null;
}

export interface KeyFields {
  name?: string;
  allowedModels?: readonly string[] | null;
  rpm?: number | null;
  tpm?: number | null;
  budgetUsd?: number | null;
  budgetPeriod?: BudgetPeriod | null;
  expiresAt?: Date | null;
  metadata?: Record<string, unknown>;
}

type Row = Awaited<ReturnType<ReturnType<typeof selectKeys>['executeTakeFirstOrThrow']>>;

function selectKeys(db: Database) {
  return db.selectFrom('api_keys').selectAll();
}

function toRecord(row: Row): KeyRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    allowedModels: parseJson(row.allowed_models) as string[] | null,
    rpm: row.rpm,
    tpm: row.tpm,
    budgetUsd: row.budget_usd,
    budgetPeriod: row.budget_period,
    expiresAt: toDate(row.expires_at),
    metadata: (parseJson(row.metadata) as Record<string, unknown>) ?? {},
    createdAt: toDate(row.created_at)!,
    updatedAt: toDate(row.updated_at)!,
    revokedAt: toDate(row.revoked_at),
  };
}

function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function toDate(value: Date | string | null): Date | null {
  return value === null ? null : new Date(value);
}

function columns(fields: KeyFields) {
  const values: Record<string, unknown> = {};
  if (fields.name !== undefined) values.name = fields.name;
  if (fields.allowedModels !== undefined)
    values.allowed_models = fields.allowedModels === null ? null : JSON.stringify(fields.allowedModels);
  if (fields.rpm !== undefined) values.rpm = fields.rpm;
  if (fields.tpm !== undefined) values.tpm = fields.tpm;
  if (fields.budgetUsd !== undefined) values.budget_usd = fields.budgetUsd;
  if (fields.budgetPeriod !== undefined) values.budget_period = fields.budgetPeriod;
  if (fields.expiresAt !== undefined) values.expires_at = fields.expiresAt;
  if (fields.metadata !== undefined) values.metadata = JSON.stringify(fields.metadata);
  return values;
}

/** SQL for virtual keys. */
export function createKeyStore(db: Database) {
  return {
    /** Creates a key; the returned `key` is the only time the secret exists outside the caller. */
    async create(fields: KeyFields & { name: string }) {
      const generated = generateKey();
      const row = await db
        .insertInto('api_keys')
        .values({
          id: generated.publicId,
          secret_hash: generated.hash,
          metadata: '{}',
          name: fields.name,
          ...columns(fields),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { key: generated.key, record: toRecord(row) };
    },
    async get(id: string): Promise<KeyRecord | undefined> {
      const row = await selectKeys(db).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async list(options: { includeRevoked?: boolean } = {}): Promise<KeyRecord[]> {
      let query = selectKeys(db).orderBy('created_at', 'desc');
      if (!options.includeRevoked) query = query.where('revoked_at', 'is', null);
      return (await query.execute()).map(toRecord);
    },
    async update(id: string, fields: KeyFields): Promise<KeyRecord | undefined> {
      const row = await db
        .updateTable('api_keys')
        .set({ ...columns(fields), updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async revoke(id: string): Promise<KeyRecord | undefined> {
      const now = new Date();
      const row = await db
        .updateTable('api_keys')
        .set({ revoked_at: now, updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
    },
    /** A new secret for the same key id; the old one stops working at once. */
    async rotate(id: string) {
      const generated = generateKey(id);
      const row = await db
        .updateTable('api_keys')
        .set({ secret_hash: generated.hash, updated_at: new Date() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      return row && { key: generated.key, record: toRecord(row) };
    },
  };
}

export type KeyStore = ReturnType<typeof createKeyStore>;
