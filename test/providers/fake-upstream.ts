import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

/** How the fake upstream writes a body: the awkward ways real networks and servers do. */
export interface Delivery {
  /** Write the body in pieces of this many bytes (1 = byte by byte). Default: one write. */
  readonly chunkSize?: number;
  /** Milliseconds between pieces (0 still yields to the event loop). */
  readonly pauseMs?: number;
  /** Stop after this many SSE events (0 = headers only) and keep the response open: a stalled upstream. */
  readonly holdAfterEvents?: number;
  /** Destroy the connection after this many SSE events instead of finishing the response. */
  readonly resetAfterEvents?: number;
  /** Stop after this many bytes of the body and keep the response open. */
  readonly holdAfterBytes?: number;
  /** Milliseconds between the headers and the first byte of the body (a model thinking). */
  readonly bodyDelayMs?: number;
  /** Milliseconds between the last body byte and the end of the response (a lagging terminator). */
  readonly endDelayMs?: number;
  /** Never send headers: the request hangs until the client gives up. */
  readonly silent?: boolean;
}

export interface Reply extends Delivery {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary wire JSON
  readonly body: any;
}

export interface FakeUpstream {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  readonly connections: () => number;
  /** Responses the client abandoned before the server finished writing them. */
  readonly abandoned: () => number;
  /** Queues an answer; requests take answers in order, and get a 500 when none is queued. */
  reply(reply: Reply): void;
  /** Drops answers a failed test left queued, so the next test starts clean. */
  clear(): void;
  /** Resolves once `count` responses have been abandoned by the client. */
  waitForAbandoned(count?: number): Promise<void>;
  close(): Promise<void>;
}

/** The byte offset just past the first `count` SSE events of a body. */
function afterEvents(body: Buffer, count: number): number {
  let offset = 0;
  for (let event = 0; event < count; event++) {
    const end = body.indexOf('\n\n', offset);
    if (end === -1) return body.length;
    offset = end + 2;
  }
  return offset;
}

async function write(response: ServerResponse, body: Buffer, reply: Reply): Promise<void> {
  const hold =
    reply.holdAfterBytes ??
    (reply.holdAfterEvents === undefined ? undefined : afterEvents(body, reply.holdAfterEvents));
  const reset = reply.resetAfterEvents === undefined ? undefined : afterEvents(body, reply.resetAfterEvents);
  const limit = Math.min(body.length, hold ?? reset ?? body.length);
  const size = reply.chunkSize ?? Math.max(limit, 1);
  if (reply.bodyDelayMs) await sleep(reply.bodyDelayMs);
  for (let offset = 0; offset < limit && !response.destroyed; offset += size) {
    response.write(body.subarray(offset, Math.min(offset + size, limit)));
    if (offset + size < limit) await (reply.pauseMs ? sleep(reply.pauseMs) : nextTurn());
  }
  if (reset !== undefined) {
    await sleep(20);
    response.socket?.destroy();
  } else if (hold === undefined) {
    if (reply.endDelayMs) await sleep(reply.endDelayMs);
    response.end();
  }
}

/** A loopback HTTP server that replays recorded wire answers and records what it was sent. */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const queue: Reply[] = [];
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let abandoned = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];

  const server = createServer(async (request, response) => {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    const text = Buffer.concat(parts).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    received.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      text,
      body,
    });
    const reply = queue.shift() ?? {
      status: 500,
      body: '{"error":{"message":"fake upstream: no reply queued","type":"server_error"}}',
    };
    response.on('close', () => {
      if (response.writableFinished) return;
      abandoned++;
      for (const waiter of waiters.filter((candidate) => candidate.count <= abandoned)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
    if (reply.silent) return;
    const bytes = Buffer.from(reply.body ?? '', 'utf8');
    const streaming = Object.keys(reply).some((key) =>
      /^(chunkSize|hold|reset|bodyDelay|endDelay)/.test(key),
    );
    response.writeHead(reply.status ?? 200, {
      'content-type': 'application/json',
      ...(streaming ? {} : { 'content-length': String(bytes.length) }),
      ...reply.headers,
    });
    response.flushHeaders();
    await write(response, bytes, reply);
  });
  server.on('connection', (socket) => {
    connections++;
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    connections: () => connections,
    abandoned: () => abandoned,
    reply(reply) {
      queue.push(reply);
    },
    clear() {
      queue.length = 0;
    },
    waitForAbandoned(count = 1) {
      if (abandoned >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
