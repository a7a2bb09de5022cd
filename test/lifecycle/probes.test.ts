import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import { send, waitFor } from './http-client.js';
import { createDatabase } from './postgres.js';
import { startTcpProxy } from './tcp-proxy.js';

const MASTER_KEY = 'sk-lifecycle-master-key-0123456789';

type ReadyBody = {
  status: string;
  checks: Record<string, { status: string; latency_ms: number; error?: string }>;
};

async function ready(url: string) {
  const answer = await send(`${url}/ready`);
  return { status: answer.status, body: JSON.parse(answer.text) as ReadyBody };
}

describe('probes on the real process', () => {
  let gantry: GantryProcess | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    gantry?.child.kill('SIGKILL');
    await gantry?.exited;
    gantry = undefined;
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('keeps liveness 200 while every upstream is down; readiness fails once every circuit is open', async () => {
    const closedPort = await freePort();
    gantry = await startGantry({
      env: { GANTRY_MASTER_KEY: MASTER_KEY },
      configYaml: `
app: { default_model: remote }
models:
  - alias: remote
    deployments:
      - provider: openai-compatible
        model: remote-1
        base_url: http://127.0.0.1:${closedPort}/v1
routing:
  retry: { max_attempts: 1 }
  circuit_breaker: { consecutive_failures: 2, cooldown: 60s }
readiness: { require_upstream: true }
`,
    });
    const { url } = gantry;
    // Probes need no key.
    await waitFor(async () => ((await ready(url)).status === 200 ? true : undefined), 'readiness');
    const before = await ready(url);
    expect(before.body.checks['upstream:remote']?.status).toBe('ok');
    expect(before.body.checks.database?.status).toBe('ok');
    expect(typeof before.body.checks.database?.latency_ms).toBe('number');

    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await send(`${url}/v1/chat/completions`, {
        headers: { authorization: `Bearer ${MASTER_KEY}` },
        body: { model: 'remote', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(answer.status).toBeGreaterThanOrEqual(500);
    }
    const after = await ready(url);
    expect(after.status).toBe(503);
    expect(after.body.checks['upstream:remote']?.status).toBe('fail');
    const health = await send(`${url}/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text).status).toBe('ok');
    // Probes are left out of the access log by default.
    expect(gantry.logs().some((line) => line.msg === 'request' && line.route === '/health')).toBe(false);
  });

  it('keeps liveness 200 while the database is down; startup and readiness follow the database', async () => {
    const database = await createDatabase();
    cleanups.push(() => database.drop());
    const proxy = await startTcpProxy({ host: database.host, port: database.port });
    cleanups.push(() => proxy.close());

    // The database is down from the start: the listener opens, probes answer, startup waits.
    gantry = await startGantry({ env: { DATABASE_URL: database.withPort(proxy.port) }, waitFor: 'health' });
    const { url } = gantry;
    expect((await send(`${url}/health`)).status).toBe(200);
    expect((await send(`${url}/startup`)).status).toBe(503);
    const starting = await ready(url);
    expect(starting.status).toBe(503);
    expect(starting.body.checks.startup?.status).toBe('fail');
    expect(starting.body.checks.database?.status).toBe('fail');

    proxy.up();
    await waitFor(
      async () => ((await send(`${url}/startup`)).status === 200 ? true : undefined),
      'startup',
      30_000,
    );
    await waitFor(async () => ((await ready(url)).status === 200 ? true : undefined), 'readiness');

    proxy.down();
    const down = await waitFor(async () => {
      const current = await ready(url);
      return current.status === 503 ? current : undefined;
    }, 'readiness to fail with the database down');
    expect(down.body.checks.database?.status).toBe('fail');
    expect(down.body.checks.database?.error).toBeTruthy();
    expect((await send(`${url}/health`)).status).toBe(200);

    proxy.up();
    await waitFor(
      async () => ((await ready(url)).status === 200 ? true : undefined),
      'readiness to return',
      30_000,
    );
    expect((await send(`${url}/health`)).status).toBe(200);
    expect(await gantry.stop()).toBe(0);
  });
});
