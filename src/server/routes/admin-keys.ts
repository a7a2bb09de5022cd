import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../../errors/gateway-error.js';
import { KEY_LIMIT_MAX, type KeyFields, type KeyRecord, type KeyStore } from '../../keys/key-store.js';
import { validate } from '../validate.js';
import { assertMasterKey } from './admin-auth.js';

export interface AdminKeysDependencies {
  readonly masterKey: string | undefined;
  readonly keys: () => KeyStore;
  /** Drops a key from every replica's cache (update, revoke, rotate). */
  readonly invalidate: (id: string) => Promise<void>;
  readonly spent?: (record: KeyRecord) => Promise<number>;
}

const keyFieldsSchema = z
  .object({
    name: z.string().min(1).max(200),
    models: z.array(z.string().min(1)).nullable(),
    rpm: z.number().int().positive().max(KEY_LIMIT_MAX).nullable(),
    tpm: z.number().int().positive().max(KEY_LIMIT_MAX).nullable(),
    budget_usd: z.number().min(0).nullable(),
    budget_period: z.enum(['daily', 'monthly', 'total']).nullable(),
    expires_at: z.iso.datetime({ offset: true }).nullable(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .partial()
  .strict();

function toFields(body: z.infer<typeof keyFieldsSchema>): KeyFields {
  return {
    name: body.name,
    allowedModels: body.models,
    rpm: body.rpm,
    tpm: body.tpm,
    budgetUsd: body.budget_usd,
    budgetPeriod: body.budget_period ?? (body.budget_usd != null ? 'total' : body.budget_period),
    expiresAt:
      body.expires_at === undefined ? undefined : body.expires_at === null ? null : new Date(body.expires_at),
    metadata: body.metadata,
  };
}

/** The public view of a key: never its secret or hash. */
export function keyView(record: KeyRecord, spentUsd?: number) {
  return {
    object: 'api_key',
    id: record.id,
    name: record.name,
    key_prefix: `gk-${record.id}`,
    models: record.allowedModels,
    rpm: record.rpm,
    tpm: record.tpm,
    budget_usd: record.budgetUsd,
    budget_period: record.budgetPeriod,
    ...(spentUsd === undefined ? {} : { spent_usd: spentUsd }),
    expires_at: record.expiresAt?.toISOString() ?? null,
    metadata: record.metadata,
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
    revoked_at: record.revokedAt?.toISOString() ?? null,
  };
}

function notFound(id: string): GatewayError {
  return new GatewayError('not_found', `No API key with id ${id}.`);
}

/** /admin/keys: create (secret shown once), list, read, update, revoke, rotate. */
export function registerAdminKeys(app: FastifyInstance, deps: AdminKeysDependencies) {
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/admin')) assertMasterKey(request, deps.masterKey);
  });

  app.post('/admin/keys', async (request, reply) => {
    const body = validate(keyFieldsSchema.required({ name: true }), request.body);
    const { key, record } = await deps.keys().create({ ...toFields(body), name: body.name });
    await deps.invalidate(record.id);
    return reply.code(201).send({ ...keyView(record), key });
  });

  app.get('/admin/keys', async (request) => {
    const query = request.query as { include_revoked?: string };
    const records = await deps.keys().list({ includeRevoked: query.include_revoked === 'true' });
    return { object: 'list', data: records.map((record) => keyView(record)) };
  });

  app.get<{ Params: { id: string } }>('/admin/keys/:id', async (request) => {
    const record = await deps.keys().get(request.params.id);
    if (!record) throw notFound(request.params.id);
    return keyView(record, deps.spent && record.budgetUsd !== null ? await deps.spent(record) : undefined);
  });

  app.patch<{ Params: { id: string } }>('/admin/keys/:id', async (request) => {
    const body = validate(keyFieldsSchema, request.body);
    const record = await deps.keys().update(request.params.id, toFields(body));
    if (!record) throw notFound(request.params.id);
    await deps.invalidate(record.id);
    return keyView(record);
  });

  app.delete<{ Params: { id: string } }>('/admin/keys/:id', async (request) => {
    const record = await deps.keys().revoke(request.params.id);
    if (!record) throw notFound(request.params.id);
    await deps.invalidate(record.id);
    return keyView(record);
  });

  app.post<{ Params: { id: string } }>('/admin/keys/:id/rotate', async (request) => {
    const rotated = await deps.keys().rotate(request.params.id);
    if (!rotated) throw notFound(request.params.id);
    await deps.invalidate(rotated.record.id);
    return { ...keyView(rotated.record), key: rotated.key };
  });
}
