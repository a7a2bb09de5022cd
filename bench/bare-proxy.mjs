// The floor: the thinnest Node proxy there is. node:http in, undici Pool out, method, path,
// headers and body forwarded, the response relayed (event streams chunk by chunk, JSON read whole and
// written at once). Nothing parsed, logged or counted.
//   node bench/bare-proxy.mjs http://127.0.0.1:UPSTREAM → prints {"port":N} when listening.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = new Pool(process.argv[2], { connections: 10_000, keepAliveTimeout: 60_000 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade']);

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

function relay(body, response) {
  const resume = () => body.resume();
  body.on('data', (chunk) => {
    if (!response.write(chunk)) {
      body.pause();
      response.once('drain', resume);
    }
  });
  body.once('end', () => response.end());
  // A cut upstream cuts the client's stream; a client gone cancels the upstream.
  body.once('error', () => response.destroy());
  response.once('close', () => body.destroy());
}

const server = createServer(async (request, response) => {
  const headers = {};
  for (const [name, value] of Object.entries(request.headers))
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  try {
    const upstreamResponse = await upstream.request({
      method: request.method,
      path: request.url,
      headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? null : await readBody(request),
      bodyTimeout: 0,
    });
    const responseHeaders = {};
    for (const [name, value] of Object.entries(upstreamResponse.headers)) {
      if (!HOP_BY_HOP.has(name)) responseHeaders[name] = value;
    }
    // Event streams are relayed chunk by chunk from the body's data events, pausing while the
    // client's socket is full: 2–4 µs a chunk cheaper than pipeline(), whose plumbing the floor does
    // not need. Anything else is small and read whole, then written with one end() (cheaper than
    // stream plumbing, as every gateway does for JSON answers).
    if (String(upstreamResponse.headers['content-type']).startsWith('text/event-stream')) {
      response.writeHead(upstreamResponse.statusCode, responseHeaders);
      relay(upstreamResponse.body, response);
    } else {
      const body = Buffer.from(await upstreamResponse.body.arrayBuffer());
      response.writeHead(upstreamResponse.statusCode, responseHeaders);
      response.end(body);
    }
  } catch (error) {
    if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { message: String(error) } }));
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', 2048, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
