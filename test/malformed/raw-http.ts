import { connect } from 'node:net';

/** An HTTP response read off the wire, whatever the request looked like. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawRequestOptions {
  /** Half-close after writing (the client will send nothing more). Default true. */
  readonly end?: boolean;
  readonly timeoutMs?: number;
  /** The request was HEAD: the answer has headers only, whatever its Content-Length says. */
  readonly head?: boolean;
}

function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parses the first response in `bytes`; undefined while it is incomplete. */
function parseResponse(bytes: Buffer, closed: boolean, head: boolean): RawResponse | undefined {
  const headerEnd = bytes.indexOf('\r\n\r\n');
  if (headerEnd === -1) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(headerEnd + 4);
  if (head) return { status, headers, body: '' };
  const length = headers['content-length'];
  if (length !== undefined) {
    if (rest.length < Number(length)) return undefined;
    return { status, headers, body: rest.subarray(0, Number(length)).toString('utf8') };
  }
  if (headers['transfer-encoding'] === 'chunked') {
    if (!closed && rest.indexOf('0\r\n\r\n') === -1) return undefined;
    return { status, headers, body: decodeChunked(rest).toString('utf8') };
  }
  return closed ? { status, headers, body: rest.toString('utf8') } : undefined;
}

/**
 * Writes raw bytes to a loopback port and reads one HTTP response, so requests that fetch would
 * normalise or refuse (lying lengths, bad chunking, invalid bytes) reach the server as written.
 * Rejects when the server closes without an answer.
 */
export function rawRequest(
  port: number,
  bytes: Buffer,
  options: RawRequestOptions = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(
      () => settle(() => reject(new Error(`no complete response within ${options.timeoutMs ?? 5_000} ms`))),
      options.timeoutMs ?? 5_000,
    );
    const tryParse = (closed: boolean) => {
      const response = parseResponse(Buffer.concat(received), closed, options.head === true);
      if (response) settle(() => resolve(response));
      else if (closed) {
        const text = Buffer.concat(received).toString('latin1').slice(0, 200);
        settle(() =>
          reject(new Error(`connection closed without a complete response: ${JSON.stringify(text)}`)),
        );
      }
    };
    socket.on('data', (chunk) => {
      received.push(chunk);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('close', () => tryParse(true));
    // The server may reset after answering; what it sent before still counts.
    socket.on('error', () => tryParse(true));
    socket.write(bytes);
    if (options.end !== false) socket.end();
  });
}

/** Builds a request with correct framing (unless `headers` override it). Null removes a header. */
export function httpRequest(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string | null> = {},
): Buffer {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const all: Record<string, string | null> = {
    host: '127.0.0.1',
    connection: 'close',
    ...(payload === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
    ...headers,
  };
  const head = Object.entries(all)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return Buffer.concat([
    Buffer.from(`${method} ${path} HTTP/1.1\r\n${head}\r\n`, 'latin1'),
    payload ?? Buffer.alloc(0),
  ]);
}
