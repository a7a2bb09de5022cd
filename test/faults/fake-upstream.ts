import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the fake upstream received. */
export interface UpstreamAttempt {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  readonly stream: boolean;
  /** Resolves when the connection under this request closed (Gantry aborted it or the exchange ended). */
  readonly closed: Promise<void>;
  /** Whether the response was fully written before the connection closed. */
  readonly completed: () => boolean;
}

/** What the fake upstream does with one request. */
export type Behaviour = (response: ServerResponse, attempt: UpstreamAttempt) => void;

const MODEL = 'up-model';

function chunk(delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: MODEL,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

/** The SSE chunks of an answer made of `words`, plus the final and usage chunks. */
export function streamEvents(words: readonly string[]): string[] {
  return [
    `data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }))}\n\n`,
    ...words.map((word) => `data: ${JSON.stringify(chunk({ content: `${word} ` }))}\n\n`),
    `data: ${JSON.stringify(chunk({}, 'stop'))}\n\n`,
    `data: ${JSON.stringify({ ...chunk({}), choices: [], usage: { prompt_tokens: 3, completion_tokens: words.length, total_tokens: 3 + words.length } })}\n\n`,
  ];
}

function startStream(response: ServerResponse) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(text);
}

/** A correct answer: a completion, a full SSE stream ending in [DONE], or embeddings. */
export function ok(text = 'hello from upstream'): Behaviour {
  return (response, attempt) => {
    const words = text.split(' ');
    if (attempt.path.endsWith('/embeddings')) {
      sendJson(response, 200, {
        object: 'list',
        model: MODEL,
        data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }],
        usage: { prompt_tokens: 2, total_tokens: 2 },
      });
      return;
    }
    if (attempt.stream) {
      startStream(response);
      for (const event of streamEvents(words)) response.write(event);
      response.end('data: [DONE]\n\n');
      return;
    }
    sendJson(response, 200, {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: words.length, total_tokens: 3 + words.length },
    });
  };
}

/** An OpenAI error envelope with the given status (and headers such as Retry-After). */
export function fail(
  status: number,
  message = `fake upstream failure ${status}`,
  headers: Record<string, string> = {},
): Behaviour {
  return (response) =>
    sendJson(
      response,
      status,
      { error: { message, type: 'server_error', param: null, code: null } },
      headers,
    );
}

/** Announces a body, writes part of it, then resets the connection. */
export function resetMidBody(): Behaviour {
  return (response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4000' });
    response.write('{"id":"chatcmpl-fake","object":"chat.completion","choices":[{"index":0,');
    setTimeout(() => response.socket?.destroy(), 20);
  };
}

/** Accepts the request and never answers (until the connection is closed by the other side). */
export function hang(): Behaviour {
  return () => {};
}

/** A 200 JSON answer that is not JSON. */
export function malformedJson(): Behaviour {
  return (response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"id":"chatcmpl-fake","choices":[{"index":0,"message":');
  };
}

/** Streams `count` content chunks (the role chunk first), then goes silent with the stream open. */
export function streamThenStall(count: number): Behaviour {
  return (response) => {
    startStream(response);
    for (const event of streamEvents(wordsOf(count)).slice(0, count + 1)) response.write(event);
  };
}

/** Streams `count` content chunks, then ends the response cleanly but without [DONE]. */
export function streamThenEnd(count: number): Behaviour {
  return (response) => {
    startStream(response);
    for (const event of streamEvents(wordsOf(count)).slice(0, count + 1)) response.write(event);
    setTimeout(() => response.end(), 20);
  };
}

/** Streams `count` content chunks, then resets the connection. */
export function streamThenReset(count: number): Behaviour {
  return (response) => {
    startStream(response);
    for (const event of streamEvents(wordsOf(count)).slice(0, count + 1)) response.write(event);
    setTimeout(() => response.socket?.destroy(), 20);
  };
}

/** Streams `count` content chunks (0: none), then a data line that is not JSON. */
export function malformedSse(count: number): Behaviour {
  return (response) => {
    startStream(response);
    for (const event of streamEvents(wordsOf(count)).slice(0, count === 0 ? 0 : count + 1)) {
      response.write(event);
    }
    response.write('data: {"id":"chatcmpl-fake","choices":[{"delta":\n\n');
    setTimeout(() => response.end('data: [DONE]\n\n'), 20);
  };
}

/** A 200 that never finishes: a stream chunk, or a byte of a JSON body, every `intervalMs`. */
export function dripForever(intervalMs: number): Behaviour {
  return (response, attempt) => {
    if (attempt.stream) startStream(response);
    else response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
    let index = 0;
    const timer = setInterval(() => {
      index++;
      response.write(attempt.stream ? streamEvents([`drip${index}`])[1]! : ' ');
    }, intervalMs);
    response.once('close', () => clearInterval(timer));
  };
}

/** A 200 event stream whose first chunk is an error object (how several upstreams report overload). */
export function errorInFirstChunk(message = 'overloaded, try again'): Behaviour {
  return (response) => {
    startStream(response);
    response.end(`data: ${JSON.stringify({ error: { message, type: 'server_error', code: null } })}\n\n`);
  };
}

function wordsOf(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `word${index + 1}`);
}

export interface FakeUpstream {
  readonly port: number;
  /** The base_url for a Gantry deployment. */
  readonly baseUrl: string;
  readonly attempts: UpstreamAttempt[];
  /** Behaviours for the next requests, in order; when the queue is empty the default applies. */
  enqueue(...behaviours: Behaviour[]): void;
  setDefault(behaviour: Behaviour): void;
  /** Clears the attempt log and the queue, and restores the default to ok(). */
  reset(): void;
  close(): Promise<void>;
}

/** A programmable OpenAI-compatible upstream on 127.0.0.1 with a random port. */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const queue: Behaviour[] = [];
  const attempts: UpstreamAttempt[] = [];
  const sockets = new Set<Socket>();
  let fallback: Behaviour = ok();
  const server = createServer(async (request, response) => {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
    } catch {
      // Gantry always sends JSON; a test asserting on the body will notice.
    }
    // 'close' on the response: after the answer was sent, or when the connection went away first.
    const closed = once(response, 'close').then(() => undefined);
    const attempt: UpstreamAttempt = {
      path: request.url ?? '',
      headers: request.headers,
      body,
      stream: body.stream === true,
      closed,
      completed: () => response.writableFinished,
    };
    attempts.push(attempt);
    (queue.shift() ?? fallback)(response, attempt);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    attempts,
    enqueue: (...behaviours) => queue.push(...behaviours),
    setDefault(behaviour) {
      fallback = behaviour;
    },
    reset() {
      attempts.length = 0;
      queue.length = 0;
      fallback = ok();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}
