import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GantryProcess } from '../helpers/gantry-process.js';
import { createTestDatabase, databaseVariants, type TestDatabase } from '../storage/test-database.js';
import { admin, chat, MASTER_KEY, startStateGantry } from './state-gantry.js';

describe.each(databaseVariants())('virtual keys and the admin API (%s)', (kind) => {
  let database: TestDatabase;
  let gantry: GantryProcess;
  const secrets: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    gantry = await startStateGantry({
      env: { DATABASE_URL: database.url, DATA_DIR: database.dataDir },
    });
  }, 90_000);

  afterAll(async () => {
    await gantry?.stop();
    await database?.drop();
  });

  it('rejects missing, wrong and virtual keys on /admin', async () => {
    const missing = await fetch(`${gantry.url}/admin/keys`);
    expect(missing.status).toBe(401);
    const wrong = await fetch(`${gantry.url}/admin/keys`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const created = await admin(gantry, 'POST', '/admin/keys', { name: 'virtual' });
    expect(created.status).toBe(201);
    secrets.push(created.body.key);
    const virtual = await fetch(`${gantry.url}/admin/keys`, {
      headers: { authorization: `Bearer ${created.body.key}` },
    });
    expect(virtual.status).toBe(403);
    expect(((await virtual.json()) as any).error.code).toBe('permission_denied');
  });

  it('creates, reads, updates, rotates and revokes keys; chat follows', async () => {
    const created = await admin(gantry, 'POST', '/admin/keys', {
      name: 'team-b',
      models: ['mock'],
      rpm: 100,
      metadata: { team: 'b' },
    });
    expect(created.status).toBe(201);
    const { key, id } = created.body;
    secrets.push(key);
    expect(key).toMatch(/^gk-[0-9a-f]{12}-/);
    const read = await admin(gantry, 'GET', `/admin/keys/${id}`);
    expect(read.body).toMatchObject({
      id,
      name: 'team-b',
      models: ['mock'],
      rpm: 100,
      metadata: { team: 'b' },
    });
    expect(read.body.key).toBeUndefined();
    const list = await admin(gantry, 'GET', '/admin/keys');
    expect(list.body.data.map((each: { id: string }) => each.id)).toContain(id);
    expect(JSON.stringify(list.body)).not.toContain(key);

    const ok = await chat(gantry, key);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('99');
    const forbidden = await chat(gantry, key, { model: 'other' });
    expect([403, 404]).toContain(forbidden.status);

    const updated = await admin(gantry, 'PATCH', `/admin/keys/${id}`, { rpm: 1 });
    expect(updated.body.rpm).toBe(1);
    // The request above is still in the one-minute window: a limit of 1 is spent.
    const limited = await chat(gantry, key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as any).error.code).toBe('rate_limit_exceeded');

    const rotated = await admin(gantry, 'POST', `/admin/keys/${id}/rotate`);
    secrets.push(rotated.body.key);
    expect((await chat(gantry, key)).status).toBe(401);
    await admin(gantry, 'PATCH', `/admin/keys/${id}`, { rpm: null });
    expect((await chat(gantry, rotated.body.key)).status).toBe(200);

    const revoked = await admin(gantry, 'DELETE', `/admin/keys/${id}`);
    expect(revoked.body.revoked_at).not.toBeNull();
    const refused = await chat(gantry, rotated.body.key);
    expect(refused.status).toBe(401);
  });

  it('refuses limits the key table cannot hold with a 400 that names the field, not a 500', async () => {
    for (const field of ['rpm', 'tpm']) {
      const tooLarge = await admin(gantry, 'POST', '/admin/keys', {
        name: 'too-large',
        [field]: 3_000_000_000,
      });
      expect(tooLarge.status).toBe(400);
      expect(tooLarge.body.error).toMatchObject({ type: 'invalid_request_error', param: field });
      expect(tooLarge.body.error.message).toContain(field);
    }
    const largest = await admin(gantry, 'POST', '/admin/keys', { name: 'largest', tpm: 2_147_483_647 });
    expect(largest.status).toBe(201);
    secrets.push(largest.body.key);
    expect(largest.body.tpm).toBe(2_147_483_647);
  });

  it('answers 401 for unknown virtual keys and keeps the master key working on /v1', async () => {
    expect((await chat(gantry, 'gk-000000000000-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(401);
    expect((await chat(gantry, 'not-a-key')).status).toBe(401);
    expect((await chat(gantry, MASTER_KEY)).status).toBe(200);
  });

  it('reports usage by key, model and day', async () => {
    const created = await admin(gantry, 'POST', '/admin/keys', { name: 'usage' });
    secrets.push(created.body.key);
    for (let index = 0; index < 3; index += 1)
      expect((await chat(gantry, created.body.key)).status).toBe(200);
    const byKey = await admin(gantry, 'GET', `/admin/usage?group_by=key&key_id=${created.body.id}`);
    expect(byKey.body.data).toHaveLength(1);
    expect(byKey.body.data[0]).toMatchObject({ group: created.body.id, requests: 3 });
    expect(byKey.body.data[0].completion_tokens).toBeGreaterThan(0);
    const byModel = await admin(gantry, 'GET', '/admin/usage?group_by=model');
    expect(byModel.body.data.map((row: { group: string }) => row.group)).toContain('mock');
    const byDay = await admin(gantry, 'GET', '/admin/usage?group_by=day');
    expect(byDay.body.data.at(-1).group).toBe(new Date().toISOString().slice(0, 10));
    expect((await admin(gantry, 'GET', '/admin/usage?group_by=nope')).status).toBe(400);
  });

  it('never writes key secrets to the logs or the database', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    // Log lines reach stdout in order within the flush interval: once a line logged after every
    // request above is out, so is everything before it.
    await fetch(`${gantry.url}/v1/models`, { headers: { 'x-request-id': 'flush-marker' } });
    await expect.poll(() => gantry.output(), { timeout: 5_000 }).toContain('flush-marker');
    const output = gantry.output();
    expect(output).toContain('"key_id"');
    for (const secret of secrets) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(secret.slice(16));
    }
    if (kind === 'postgres') {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const dump = await client.query('select row_to_json(api_keys)::text as row from api_keys');
      await client.end();
      for (const secret of secrets) expect(JSON.stringify(dump.rows)).not.toContain(secret.slice(16));
    }
  });
});

describe('usage accounting switched off (USAGE_ENABLED=false)', () => {
  let database: TestDatabase;
  let gantry: GantryProcess;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    gantry = await startStateGantry({
      env: { DATA_DIR: database.dataDir, USAGE_ENABLED: 'false' },
    });
  }, 90_000);

  afterAll(async () => {
    await gantry?.stop();
    await database?.drop();
  });

  it('serves requests and records no usage for them', async () => {
    const created = await admin(gantry, 'POST', '/admin/keys', { name: 'unaccounted' });
    for (let index = 0; index < 3; index += 1)
      expect((await chat(gantry, created.body.key)).status).toBe(200);
    expect((await chat(gantry, MASTER_KEY)).status).toBe(200);
    const byModel = await admin(gantry, 'GET', '/admin/usage?group_by=model');
    expect(byModel.status).toBe(200);
    expect(byModel.body.data).toEqual([]);
  });
});
