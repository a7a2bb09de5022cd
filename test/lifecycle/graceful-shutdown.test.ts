import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import { metricValue, openRequest, parseChatStream, send, waitFor, waitStarted } from './http-client.js';
import { createDatabase } from './postgres.js';
import { startTcpProxy } from './tcp-proxy.js';

const STREAMS = 50;

function config(options: { words: number; delay: string; timeout: string }) {
  return `
app: { default_model: slow }
models:
  - alias: slow
    deployments:
      - provider: mock
        model: slow-1
        mock: { words: ${options.words}, chunk_delay: 100ms }
  - alias: slow-json
    deployments:
      - provider: mock
        model: slow-json-1
        mock: { ttft: 60s }
shutdown: { delay: ${options.delay}, timeout: ${options.timeout} }
`;
}

const chat = (prompt: string, stream: boolean, model = 'slow') => ({
  model,
  stream,
  messages: [{ role: 'user', content: prompt }],
});

async function openStreams(url: string) {
  const streams = Array.from({ length: STREAMS }, (_, index) =>
    openRequest(`${url}/v1/chat/completions`, { body: chat(`stream number ${index}`, true) }),
  );
  await Promise.all(streams.map((stream) => stream.firstChunk));
  return streams;
}

describe('graceful shutdown on SIGTERM (real process, real signals, real sockets)', () => {
  let gantry: GantryProcess | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    gantry?.child.kill('SIGKILL');
    await gantry?.exited;
    gantry = undefined;
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it(`drains ${STREAMS} SSE streams to completion when they finish within the timeout`, async () => {
    gantry = await startGantry({ configYaml: config({ words: 50, delay: '3s', timeout: '20s' }) });
    await waitStarted(gantry.url);
    const { url } = gantry;
    // The mock is deterministic per prompt: the non-stream answer is the expected stream content.
    const expected = await Promise.all(
      Array.from({ length: STREAMS }, async (_, index) => {
        const answer = await send(`${url}/v1/chat/completions`, {
          body: chat(`stream number ${index}`, false),
        });
        return (JSON.parse(answer.text) as { choices: [{ message: { content: string } }] }).choices[0].message
          .content;
      }),
    );
    const streams = await openStreams(url);
    let finished = 0;
    for (const stream of streams) {
      stream.done.then(
        () => finished++,
        () => {},
      );
    }

    const signalledAt = performance.now();
    gantry.child.kill('SIGTERM');
    // Once the drain has begun (its log line is written right after readiness flips), every /ready
    // fails. Not "the first request after kill()": the kernel may hand the signal to any of the
    // process's threads, and on a loaded machine that one may run after the event loop has already
    // answered a new request (seen once in CI: 200, 3.3 ms after kill()).
    const running = gantry;
    await waitFor(
      () => running.output().includes('draining: readiness fails from now on') || undefined,
      'the drain to begin',
    );
    const ready = await send(`${url}/ready`);
    console.log(
      `first /ready after the drain began: ${ready.status}, ${(performance.now() - signalledAt).toFixed(1)} ms after SIGTERM`,
    );
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text).checks.draining.status).toBe('fail');

    // During shutdown.delay the listener still accepts, and answers with Connection: close.
    const duringDelay = await send(`${url}/v1/models`);
    expect(duringDelay.status).toBe(200);
    expect(duringDelay.headers.connection).toBe('close');
    expect((await send(`${url}/health`)).status).toBe(200);

    // After the delay new connections are refused while the streams are still running.
    // (A connection caught in the accept backlog as the listener closes is reset rather than refused.)
    await waitFor(
      () =>
        send(`${url}/health`).then(
          () => undefined,
          (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? true : undefined),
        ),
      'the listener to close',
    );
    await expect(send(`${url}/health`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // The streams outlive the listener: they are still running on their open connections.
    expect(finished).toBeLessThan(STREAMS);
    expect(gantry.child.exitCode).toBeNull();

    const results = await Promise.all(streams.map((stream) => stream.done));
    results.forEach((result, index) => {
      expect(result.status).toBe(200);
      const parsed = parseChatStream(result.text);
      expect(parsed.error).toBeUndefined();
      expect(parsed.done).toBe(true);
      expect(parsed.content).toBe(expected[index]);
    });
    expect(await gantry.exited).toBe(0);
    expect(gantry.output()).toContain('"forced":false');
  });

  it('ends unfinished streams with a server_shutting_down error event at the deadline; exit 0', async () => {
    gantry = await startGantry({ configYaml: config({ words: 300, delay: '0s', timeout: '500ms' }) });
    await waitStarted(gantry.url);
    const { url } = gantry;
    const streams = await openStreams(url);
    const plain = openRequest(`${url}/v1/chat/completions`, {
      body: chat('waits for a minute', false, 'slow-json'),
    });
    // Wait until the non-stream request is being processed, then a little for it to reach the upstream.
    await waitFor(async () => {
      const metrics = (await send(`${url}/metrics`)).text;
      return (metricValue(metrics, 'gantry_inflight_requests') ?? 0) >= STREAMS + 1 ? true : undefined;
    }, 'the non-stream request to be in flight');
    await new Promise((resolve) => setTimeout(resolve, 300));

    gantry.child.kill('SIGTERM');
    const results = await Promise.all(streams.map((stream) => stream.done));
    for (const result of results) {
      expect(result.status).toBe(200);
      const parsed = parseChatStream(result.text);
      expect(parsed.done).toBe(false);
      expect(parsed.content.length).toBeGreaterThan(0);
      expect(parsed.error?.code).toBe('server_shutting_down');
    }
    const answered = await plain.done;
    expect(answered.status).toBe(503);
    expect(JSON.parse(answered.text).error.code).toBe('server_shutting_down');
    expect(await gantry.exited).toBe(0);
    expect(gantry.output()).toContain('shutdown timeout reached');
  });

  it('exits at once, non-zero, on a second signal', async () => {
    gantry = await startGantry({ configYaml: config({ words: 300, delay: '0s', timeout: '60s' }) });
    await waitStarted(gantry.url);
    const { url } = gantry;
    const stream = openRequest(`${url}/v1/chat/completions`, { body: chat('long', true) });
    await stream.firstChunk;
    gantry.child.kill('SIGTERM');
    await waitFor(() => gantry!.output().includes('draining') || undefined, 'the drain to start');
    gantry.child.kill('SIGTERM');
    expect(await gantry.exited).toBe(143);
    await expect(stream.done).rejects.toThrow();
  });

  it('stores the usage of requests served while the database was still connecting, when SIGTERM comes before it answered', async () => {
    const database = await createDatabase();
    cleanups.push(() => database.drop());
    const proxy = await startTcpProxy({ host: database.host, port: database.port });
    cleanups.push(() => proxy.close());
    // The database accepts the connection and does not answer yet: the start attempt is under way.
    proxy.hold();
    gantry = await startGantry({
      env: { DATABASE_URL: database.withPort(proxy.port) },
      configYaml: config({ words: 5, delay: '0s', timeout: '20s' }),
      waitFor: 'health',
    });
    const { url } = gantry;
    const answers = await Promise.all(
      Array.from({ length: 3 }, (_, index) =>
        send(`${url}/v1/chat/completions`, { body: chat(`before the database ${index}`, false) }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect((await send(`${url}/startup`)).status).toBe(503);
    gantry.child.kill('SIGTERM');
    await waitFor(() => gantry!.output().includes('stopped accepting connections') || undefined, 'the drain');
    // The database answers only once the drain has begun and the listener is closed.
    proxy.up();
    expect(await gantry.exited).toBe(0);
    expect(gantry.output()).not.toContain('not written at shutdown');

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const stored = await client.query('select request_id from usage_records order by request_id');
    await client.end();
    expect(stored.rows.map((row) => row.request_id as string)).toEqual(
      answers.map((answer) => answer.headers['x-request-id']).sort(),
    );
  });
});
