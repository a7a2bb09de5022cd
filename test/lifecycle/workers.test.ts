import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import { metricValue, openRequest, parseChatStream, send, waitFor } from './http-client.js';
import { createDatabase } from './postgres.js';

const CONFIG = `
app: { default_model: slow }
models:
  - alias: slow
    deployments:
      - provider: mock
        model: slow-1
        mock: { words: 15, chunk_delay: 100ms }
shutdown: { delay: 0s, timeout: 20s }
`;

const chat = (prompt: string, stream = false) => ({
  model: 'slow',
  stream,
  messages: [{ role: 'user', content: prompt }],
});

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('gantry serve --workers 2 (node:cluster, real processes)', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let gantry: GantryProcess;
  const workerPids = () =>
    new Set(
      gantry
        .logs()
        .filter((line) => line.msg === 'gantry listening')
        .map((line) => line.pid as number),
    );
  const servedBy = () =>
    new Set(
      gantry
        .logs()
        .filter((line) => line.msg === 'request' && line.route === '/v1/chat/completions')
        .map((line) => line.pid as number),
    );

  beforeAll(async () => {
    // More than one process needs a database server: the embedded one serves a single process.
    database = await createDatabase();
    gantry = await startGantry({
      configYaml: CONFIG,
      args: ['serve', '--workers', '2'],
      env: { DATABASE_URL: database.url },
    });
    await waitFor(() => workerPids().size === 2 || undefined, 'both workers to listen', 30_000);
    await waitFor(
      async () => ((await send(`${gantry.url}/startup`)).status === 200 ? true : undefined),
      'startup',
    );
  });
  afterAll(async () => {
    const pids = [...workerPids()];
    gantry?.child.kill('SIGKILL');
    await gantry?.exited;
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await database?.drop();
  });

  it('spreads connections over both workers and aggregates their metrics in /metrics', async () => {
    const before = metricValue((await send(`${gantry.url}/metrics`)).text, 'gantry_requests_total', {
      route: '/v1/chat/completions',
    });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        send(`${gantry.url}/v1/chat/completions`, { body: chat(`q${index}`) }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    await waitFor(() => (servedBy().size === 2 ? true : undefined), 'access logs from both workers');
    // Whichever worker answers the scrape, it reports the sum over both.
    for (let scrape = 0; scrape < 4; scrape++) {
      const metrics = (await send(`${gantry.url}/metrics`)).text;
      const total = metricValue(metrics, 'gantry_requests_total', { route: '/v1/chat/completions' });
      expect(total! - (before ?? 0)).toBe(20);
    }
  });

  it('restarts a killed worker, which then serves requests', async () => {
    const [victim] = [...workerPids()];
    process.kill(victim!, 'SIGKILL');
    await waitFor(
      () => gantry.logs().find((line) => line.msg === 'worker exited unexpectedly; restarting it'),
      'the primary to notice',
    );
    await waitFor(() => (workerPids().size === 3 ? true : undefined), 'a replacement worker', 30_000);
    const replacement = [...workerPids()].find(
      (pid) => pid !== victim && isAlive(pid) && !servedBy().has(pid),
    );
    expect(replacement).toBeDefined();
    await waitFor(async () => {
      await send(`${gantry.url}/v1/chat/completions`, { body: chat('after the restart') });
      return servedBy().has(replacement!) ? true : undefined;
    }, 'the replacement to serve a request');
  });

  it('drains every worker on SIGTERM: open streams complete, exit 0', async () => {
    const streams = Array.from({ length: 10 }, (_, index) =>
      openRequest(`${gantry.url}/v1/chat/completions`, { body: chat(`stream ${index}`, true) }),
    );
    await Promise.all(streams.map((stream) => stream.firstChunk));
    const alive = [...workerPids()].filter(isAlive);
    expect(alive).toHaveLength(2);
    gantry.child.kill('SIGTERM');
    const results = await Promise.all(streams.map((stream) => stream.done));
    for (const result of results) {
      const parsed = parseChatStream(result.text);
      expect(parsed.error).toBeUndefined();
      expect(parsed.done).toBe(true);
    }
    expect(await gantry.exited).toBe(0);
    const streamedBy = new Set(
      gantry
        .logs()
        .filter((line) => line.msg === 'request' && line.stream === true)
        .map((line) => line.pid),
    );
    expect([...streamedBy].sort()).toEqual([...alive].sort());
    const stopped = gantry.logs().filter((line) => line.msg === 'worker stopped');
    expect(stopped.map((line) => line.code)).toEqual([0, 0]);
    for (const pid of alive) expect(isAlive(pid)).toBe(false);
  });
});

describe('gantry serve --workers 2 without a database server', () => {
  it('stops the cluster with exit 78 when a worker cannot start, instead of restarting it forever', async () => {
    const gantry = await startGantry({ configYaml: CONFIG, args: ['serve', '--workers', '2'], noWait: true });
    try {
      expect(await gantry.exited).toBe(78);
      expect(
        gantry.logs().some((line) => line.msg === 'a worker could not start; stopping the cluster'),
      ).toBe(true);
      expect(gantry.output()).not.toContain('worker exited unexpectedly');
    } finally {
      gantry.child.kill('SIGKILL');
    }
  });
});
