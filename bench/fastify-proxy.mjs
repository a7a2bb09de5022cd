// The framework floor: the bare proxy's work done the way Gantry does it, on the framework Gantry
// uses, for the non-stream chat of the throughput scenario. Fastify in, undici Pool out; the JSON
// request is parsed and serialized again, the JSON answer parsed and sent as an object (Fastify
// serializes it). No hooks, logging, metrics, auth, validation or accounting: the distance from the
// bare proxy to this is what the framework costs, and from this to Gantry what Gantry's own work costs.
//   node bench/fastify-proxy.mjs http://127.0.0.1:UPSTREAM → prints {"port":N} when listening.
import Fastify from 'fastify';
import { Pool } from 'undici';

const upstream = new Pool(process.argv[2], { connections: 10_000, keepAliveTimeout: 60_000 });
const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });

app.post('/v1/chat/completions', async (request, reply) => {
  const upstreamResponse = await upstream.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request.body),
    bodyTimeout: 0,
  });
  reply.code(upstreamResponse.statusCode);
  return upstreamResponse.body.json();
});

await app.listen({ port: 0, host: '127.0.0.1', backlog: 2048 });
process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`);
process.on('SIGTERM', () => process.exit(0));
