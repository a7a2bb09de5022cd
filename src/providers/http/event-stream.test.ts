import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../config/load.js';
import { isGatewayError } from '../../errors/gateway-error.js';
import { readEventStream } from './event-stream.js';

const deployment = {
  id: 'test-upstream',
  timeouts: { connect: 1_000, first_byte: 2_000, idle: 300, total: 10_000 },
} as unknown as Deployment;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A real HTTP upstream whose event-stream body the test writes by hand. */
async function upstream(onResponse: (response: ServerResponse) => void) {
  const closed: Promise<void>[] = [];
  server = createServer((_request, response) => {
    closed.push(once(response, 'close').then(() => undefined));
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.flushHeaders();
    onResponse(response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const startedAt = performance.now();
  const answer = await request(`http://127.0.0.1:${port}/`, { bodyTimeout: 0 });
  const stream = readEventStream(answer.body, deployment, startedAt, new AbortController().signal);
  return { stream, body: answer.body, upstreamClosed: () => Promise.all(closed) };
}

describe('readEventStream (a real HTTP body)', () => {
  it('delivers events split across reads in order, then ends', async () => {
    const { stream } = await upstream(async (response) => {
      const text = 'data: {"n":1}\n\ndata: {"n"' + ':2}\n\n: keep-alive\n\nevent: x\ndata: 3\n\n';
      for (const piece of text.match(/[\s\S]{1,7}/g)!) {
        response.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      response.end();
    });
    const seen: string[] = [];
    for await (const event of stream) seen.push(`${event.event ?? ''}|${event.data}`);
    expect(seen).toEqual(['|{"n":1}', '|{"n":2}', 'x|3']);
  });

  it('pauses the body while the consumer does not pull, and loses nothing once it does', async () => {
    const events = 500;
    const { stream, body } = await upstream((response) => {
      for (let index = 0; index < events; index++) response.write(`data: ${index}\n\n`);
      response.end();
    });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.data).toBe('0');
    // The consumer stops pulling: the body stops flowing instead of buffering everything.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(body.isPaused()).toBe(true);
    const rest: string[] = [];
    for (let step = await iterator.next(); !step.done; step = await iterator.next())
      rest.push(step.value.data);
    expect(rest).toHaveLength(events - 1);
    expect(rest.at(-1)).toBe(String(events - 1));
  });

  it('a body that stops mid-stream fails with timeout_idle while the consumer waits', async () => {
    const { stream } = await upstream((response) => response.write('data: first\n\n'));
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.data).toBe('first');
    const failure = await iterator.next().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isGatewayError(failure) && failure.code).toBe('timeout_idle');
  });

  it('bytes of an unfinished event keep the idle watchdog from firing', async () => {
    const { stream } = await upstream(async (response) => {
      response.write('data: first\n\n');
      // A long event trickles in over 3 idle periods, a piece every 100 ms.
      for (const piece of ['data: {"long":', '"a', 'b', 'c', 'd', 'e', 'f', 'g', '"}\n\n']) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        response.write(piece);
      }
      response.end();
    });
    const seen: string[] = [];
    for await (const event of stream) seen.push(event.data);
    expect(seen).toEqual(['first', '{"long":"abcdefg"}']);
  });

  it('a consumer that stops early cancels the upstream request', async () => {
    const { stream, upstreamClosed } = await upstream((response) => {
      const timer = setInterval(() => response.write('data: tick\n\n'), 5);
      response.once('close', () => clearInterval(timer));
    });
    for await (const event of stream) {
      expect(event.data).toBe('tick');
      break;
    }
    await upstreamClosed();
  });
});
