// A fast fake OpenAI-compatible upstream. Runs as its own process so it can be pinned to a core:
//   node bench/fake-upstream.mjs [port]   → prints {"port":N} on stdout when listening.
// Stream shape is set at run time with POST /__stream {"chunks":200,"delayMs":20} so one process
// serves every scenario without a restart.
import { createServer } from 'node:http';

const CHAT_ANSWER = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'bench',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello from the bench upstream.' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 8, completion_tokens: 6, total_tokens: 14 },
});
const MODELS = JSON.stringify({
  object: 'list',
  data: [{ id: 'bench', object: 'model', owned_by: 'bench' }],
});
const VECTOR = Array.from({ length: 16 }, (_, i) => i / 16);
const embeddingAnswer = (embedding) =>
  JSON.stringify({
    object: 'list',
    model: 'bench',
    data: [{ object: 'embedding', index: 0, embedding }],
    usage: { prompt_tokens: 4, total_tokens: 4 },
  });
const EMBEDDING = embeddingAnswer(VECTOR);
// `encoding_format: "base64"` (what the openai SDKs ask for by default): little-endian float32s.
const EMBEDDING_BASE64 = embeddingAnswer(Buffer.from(Float32Array.from(VECTOR).buffer).toString('base64'));
const CHUNK = `data: ${JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'bench',
  choices: [{ index: 0, delta: { content: 'tok ' }, finish_reason: null }],
})}\n\n`;
const FINAL_CHUNK = `data: ${JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'bench',
  choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
})}\n\n`;
const USAGE_CHUNK = `data: ${JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'bench',
  choices: [],
  usage: { prompt_tokens: 8, completion_tokens: 200, total_tokens: 208 },
})}\n\n`;

const streamShape = { chunks: 200, delayMs: 20 };
let openStreams = 0;

function sendJson(response, status, text) {
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** `chunks` content chunks, the first at once and the rest `delayMs` apart, then a stop chunk and [DONE]. */
function sendStream(response, wantsUsage) {
  const { chunks, delayMs } = streamShape;
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  openStreams++;
  let sent = 1;
  response.write(CHUNK);
  const finish = () => {
    clearInterval(timer);
    openStreams--;
  };
  const timer = setInterval(() => {
    if (response.destroyed) return finish();
    if (sent < chunks) {
      response.write(CHUNK);
      sent++;
      return;
    }
    finish();
    response.end(`${FINAL_CHUNK}${wantsUsage ? USAGE_CHUNK : ''}data: [DONE]\n\n`);
  }, delayMs);
  response.once('close', () => {
    if (!response.writableFinished) finish();
  });
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const url = request.url ?? '/';
    if (request.method === 'GET' && url.endsWith('/models')) return sendJson(response, 200, MODELS);
    if (request.method !== 'POST') return sendJson(response, 404, '{"error":{"message":"not found"}}');
    const body = Buffer.concat(chunks).toString('utf8');
    if (url === '/__stream') {
      Object.assign(streamShape, JSON.parse(body));
      return sendJson(response, 200, JSON.stringify({ ...streamShape, openStreams }));
    }
    if (url.endsWith('/embeddings')) {
      const base64 = /"encoding_format"\s*:\s*"base64"/.test(body);
      return sendJson(response, 200, base64 ? EMBEDDING_BASE64 : EMBEDDING);
    }
    if (url.endsWith('/chat/completions')) {
      // A substring test instead of JSON.parse keeps the upstream's own cost out of the numbers.
      if (/"stream"\s*:\s*true/.test(body))
        return sendStream(response, /"include_usage"\s*:\s*true/.test(body));
      return sendJson(response, 200, CHAT_ANSWER);
    }
    sendJson(response, 404, '{"error":{"message":"not found"}}');
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;
server.maxConnections = 100_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', 2048, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
