import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GantryProcess } from '../helpers/gantry-process.js';
import { createTestDatabase, SERVER_DATABASE_URL, type TestDatabase } from '../storage/test-database.js';
import { admin, chat, startStateGantry } from './state-gantry.js';
import { startTcpProxy, type TcpProxy, throughProxy } from './tcp-proxy.js';

const REDIS_URL = process.env.REDIS_URL || undefined;
const servers = Boolean(SERVER_DATABASE_URL && REDIS_URL);
console.log(
  `[state tests] multi-process PostgreSQL + Redis suite: ${servers ? 'running' : 'skipped (set DATABASE_URL and REDIS_URL)'}`,
);

async function countUsage(url: string, keyId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const result = await client.query('select request_id from usage_records where key_id = $1', [keyId]);
  await client.end();
  return result.rows.map((row) => row.request_id as string).sort();
}

describe.runIf(servers)('shared state over PostgreSQL and Redis, several processes', () => {
  let database: TestDatabase;
  const started: GantryProcess[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });

  afterAll(async () => {
    await Promise.all(started.map((gantry) => gantry.stop('SIGKILL')));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await database?.drop();
  });

  it('applies migrations exactly once when 3 processes start together on an empty database', async () => {
    const gantries = await Promise.all(
      [0, 1, 2].map(() => startStateGantry({ env: { DATABASE_URL: database.url, REDIS_URL } })),
    );
    started.push(...gantries);
    const applied = gantries.flatMap((gantry) =>
      gantry.logs().filter((line) => line.msg === 'migration applied'),
    );
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const rows = await client.query('select version from gantry_migrations order by version');
    await client.end();
    expect(applied.map((line) => line.version).sort()).toEqual(rows.rows.map((row) => row.version));
    expect(rows.rows.length).toBeGreaterThan(0);
  }, 120_000);

  it('holds TPM and RPM across 2 processes sharing Redis under 200 concurrent requests', async () => {
    const [first, second] = started;
    const tokens = await admin(first!, 'POST', '/admin/keys', { name: 'tpm', tpm: 1000 });
    const requests = await admin(first!, 'POST', '/admin/keys', { name: 'rpm', rpm: 37 });
    const maxTokens = 20;
    const send = (key: string) =>
      Promise.all(
        Array.from({ length: 200 }, async (_, index) => {
          const response = await chat(index % 2 === 0 ? first! : second!, key, { max_tokens: maxTokens });
          const body = (await response.json()) as { usage?: { total_tokens: number } };
          return { status: response.status, tokens: body.usage?.total_tokens ?? 0 };
        }),
      );
    const tokenResults = await send(tokens.body.key);
    const admitted = tokenResults.filter((result) => result.status === 200);
    const admittedTokens = admitted.reduce((sum, result) => sum + result.tokens, 0);
    const perRequestMax = Math.max(...admitted.map((result) => result.tokens)) + maxTokens;
    expect(tokenResults.every((result) => result.status === 200 || result.status === 429)).toBe(true);
    expect(admitted.length).toBeGreaterThan(0);
    console.log(
      `[state tests] TPM 1000 over 2 processes: ${admitted.length}/200 admitted, ${admittedTokens} tokens (bound ${1000 + perRequestMax})`,
    );
    expect(admittedTokens).toBeLessThanOrEqual(1000 + perRequestMax);
    const requestResults = await send(requests.body.key);
    expect(requestResults.filter((result) => result.status === 200)).toHaveLength(37);
    expect(requestResults.filter((result) => result.status === 429)).toHaveLength(163);
  }, 120_000);
});

describe.runIf(servers)('outages of PostgreSQL and Redis (through a TCP proxy we control)', () => {
  let database: TestDatabase;
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
  });

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
    await database?.drop();
  });

  it('keeps serving known keys while PostgreSQL is down and records every request once it is back', async () => {
    const proxy = await startTcpProxy(Number(new URL(database.url!).port || 5432));
    cleanup.push(() => proxy.close());
    const gantry = await startStateGantry({
      env: { DATABASE_URL: throughProxy(database.url!, proxy) },
    });
    cleanup.push(() => gantry.stop('SIGKILL'));
    const created = await admin(gantry, 'POST', '/admin/keys', { name: 'outage' });
    const key = created.body.key as string;
    const served: string[] = [];
    const send = async () => {
      const requestId = `req-${randomBytes(6).toString('hex')}`;
      const response = await fetch(`${gantry.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'x-request-id': requestId,
        },
        body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(200);
      served.push(requestId);
    };
    for (let index = 0; index < 5; index += 1) await send();
    await proxy.stop();
    // Past the key cache's freshness: lookups now fail and the cached key must carry on.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    for (let index = 0; index < 20; index += 1) await send();
    const ready = await fetch(`${gantry.url}/ready`);
    expect(ready.status).toBe(503);
    await proxy.start();
    const deadline = Date.now() + 30_000;
    let stored: string[] = [];
    while (Date.now() < deadline) {
      stored = await countUsage(database.url!, created.body.id);
      if (stored.length >= served.length) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(stored).toEqual([...served].sort());
    // Info lines reach stdout within the logger's flush interval (200 ms), not at once.
    await expect.poll(() => gantry.output(), { timeout: 5_000 }).toContain('usage writes resumed');
  }, 120_000);

  it.each(['allow', 'deny'] as const)(
    'follows rate_limit.on_store_error=%s when Redis is down',
    async (onStoreError) => {
      const proxy = await startTcpProxy(Number(new URL(REDIS_URL!).port || 6379));
      cleanup.push(() => proxy.close());
      const gantry = await startStateGantry({
        env: {
          DATABASE_URL: database.url,
          REDIS_URL: throughProxy(REDIS_URL!, proxy),
          RATE_LIMIT_ON_STORE_ERROR: onStoreError,
        },
      });
      cleanup.push(() => gantry.stop('SIGKILL'));
      const created = await admin(gantry, 'POST', '/admin/keys', {
        name: `redis-${onStoreError}`,
        rpm: 1000,
      });
      expect((await chat(gantry, created.body.key)).status).toBe(200);
      await proxy.stop();
      const during = await chat(gantry, created.body.key);
      expect(during.status).toBe(onStoreError === 'allow' ? 200 : 503);
      const ready = await fetch(`${gantry.url}/ready`);
      expect(ready.status).toBe(503);
      await proxy.start();
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await chat(gantry, created.body.key)).status;
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(status).toBe(200);
      await expect.poll(() => gantry.output(), { timeout: 5_000 }).toContain('rate limit store unavailable');
    },
    60_000,
  );
});

describe.runIf(Boolean(SERVER_DATABASE_URL))('startup errors name the setting', () => {
  const run = (env: Record<string, string>) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['dist/cli/main.js', 'migrate'], {
        env: { PATH: process.env.PATH, ...env },
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('exit', (code) => resolve({ code, output }));
    });

  it('reports an unreachable server and an unknown database', async () => {
    const unreachable = await run({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toMatch(/database\.url \(DATABASE_URL\): cannot reach .*ECONNREFUSED/);
    const url = new URL(SERVER_DATABASE_URL!);
    url.pathname = '/gantry_no_such_database';
    const unknown = await run({ DATABASE_URL: url.toString() });
    expect(unknown.code).toBe(1);
    expect(unknown.output).toMatch(/DATABASE_URL.*does not exist/);
  });
});
