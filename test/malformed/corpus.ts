import { httpRequest } from './raw-http.js';

/** One malformed request and what Gantry must answer. */
export interface MalformedCase {
  readonly name: string;
  readonly bytes: Buffer;
  /** The exact status expected; every case must be a 4xx either way. */
  readonly status: number;
  /** The catalogue code expected in the envelope. */
  readonly code: string;
  /** For validation errors: the JSON path the envelope's `param` must name. */
  readonly param?: string | null;
  /** HEAD answers carry no body to check. */
  readonly noBody?: boolean;
}

/** The body limit the corpus's Gantry runs with (BODY_LIMIT). */
export const BODY_LIMIT = 64 * 1024;

const CHAT = '/v1/chat/completions';
const EMBEDDINGS = '/v1/embeddings';
const validMessage = { role: 'user', content: 'hi' };
const validChat = { model: 'mock', messages: [validMessage] };

const post = (path: string, body: string | Buffer, headers: Record<string, string | null> = {}) =>
  httpRequest('POST', path, body, headers);
const json = (value: unknown) => JSON.stringify(value);

/** Text that is not JSON, or not the JSON an API accepts: 400 invalid_json. */
const BAD_JSON: Record<string, string> = {
  'truncated document': '{"model":"mock","messages":[',
  'truncated string': '{"model":"mo',
  'unterminated object': '{"model":"mock"',
  'trailing comma in an object': '{"model":"mock","messages":[],}',
  'trailing comma in an array': '{"model":"mock","messages":[{"role":"user","content":"hi"},]}',
  'NaN literal': '{"model":"mock","messages":[],"temperature":NaN}',
  'Infinity literal': '{"model":"mock","messages":[],"temperature":Infinity}',
  'single quotes': "{'model':'mock','messages':[]}",
  'unquoted keys': '{model:"mock",messages:[]}',
  'a comment': '{"model":"mock" /* comment */,"messages":[]}',
  'undefined literal': '{"model":undefined}',
  'Python literals': '{"model":"mock","stream":True,"user":None}',
  'two documents': '{"model":"mock"}{"model":"mock"}',
  'leading garbage': 'x{"model":"mock"}',
  'hex number': '{"model":"mock","max_tokens":0x10}',
  'leading zeros': '{"model":"mock","max_tokens":007}',
  'leading plus': '{"model":"mock","n":+1}',
  'bare fraction': '{"model":"mock","temperature":.5}',
  'raw newline inside a string': '{"model":"mo\nck","messages":[]}',
  'raw tab inside a string': '{"model":"mo\tck","messages":[]}',
  'invalid escape': '{"model":"\\x41","messages":[]}',
  'short unicode escape': '{"model":"\\u12","messages":[]}',
  'byte order mark': '\uFEFF{"model":"mock","messages":[]}',
  'extra closing brace': '{"model":"mock"}}',
  'only whitespace': '   \n\t ',
  'lone open bracket': '[',
  'missing colon': '{"model" "mock"}',
  'missing value': '{"model":}',
};

/** JSON that is not an object: 400 invalid_request without a param. */
const NOT_OBJECTS = ['"hello"', '42', 'null', 'true', '[]', '[{"model":"mock"}]', '-0.5e3'];

/** [field patch, JSON path named by param] for POST /v1/chat/completions. */
const CHAT_FIELDS: Array<[Record<string, unknown>, string]> = [
  ...[1, null, [], {}, true, ''].map((model): [Record<string, unknown>, string] => [{ model }, 'model']),
  ...['hi', {}, null, [], 1].map((messages): [Record<string, unknown>, string] => [{ messages }, 'messages']),
  [{ messages: [1] }, 'messages[0]'],
  [{ messages: ['hi'] }, 'messages[0]'],
  [{ messages: [null] }, 'messages[0]'],
  [{ messages: [validMessage, []] }, 'messages[1]'],
  [{ messages: [{ role: 1, content: 'x' }] }, 'messages[0].role'],
  [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
  [{ messages: [{ role: null, content: 'x' }] }, 'messages[0].role'],
  [{ messages: [{ content: 'x' }] }, 'messages[0].role'],
  [{ messages: [{ role: 'USER', content: 'x' }] }, 'messages[0].role'],
  ...[1, null, {}, true].map((content): [Record<string, unknown>, string] => [
    { messages: [{ role: 'user', content }] },
    'messages[0].content',
  ]),
  [{ messages: [{ role: 'user' }] }, 'messages[0].content'],
  [{ messages: [{ role: 'user', content: [1] }] }, 'messages[0].content[0]'],
  [{ messages: [{ role: 'user', content: [{ type: 'bogus' }] }] }, 'messages[0].content[0].type'],
  [{ messages: [{ role: 'user', content: [{ text: 'no type' }] }] }, 'messages[0].content[0].type'],
  [{ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text'],
  [{ messages: [{ role: 'user', content: [{ type: 'text', text: 1 }] }] }, 'messages[0].content[0].text'],
  [
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'ok' },
            { type: 'text', text: [] },
          ],
        },
      ],
    },
    'messages[0].content[1].text',
  ],
  [{ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }, 'messages[0].content[0].image_url'],
  [
    { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] },
    'messages[0].content[0].image_url.url',
  ],
  [
    { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: '' } }] }] },
    'messages[0].content[0].image_url.url',
  ],
  [
    {
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'ultra' } }],
        },
      ],
    },
    'messages[0].content[0].image_url.detail',
  ],
  [
    {
      messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
    },
    'messages[0].content[0].type',
  ],
  [{ messages: [{ role: 'tool', content: 'result' }] }, 'messages[0].tool_call_id'],
  [{ messages: [{ role: 'assistant', tool_calls: [{ id: 1 }] }] }, 'messages[0].tool_calls[0].id'],
  [{ messages: [{ role: 'assistant', tool_calls: 'call' }] }, 'messages[0].tool_calls'],
  [{ messages: [{ role: 'user', content: 'x', name: 7 }] }, 'messages[0].name'],
  [{ stream: 'yes' }, 'stream'],
  [{ stream: 1 }, 'stream'],
  [{ stream_options: 'usage' }, 'stream_options'],
  [{ stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
  ...['hot', -1, 3, []].map((temperature): [Record<string, unknown>, string] => [
    { temperature },
    'temperature',
  ]),
  [{ top_p: 2 }, 'top_p'],
  [{ top_p: -0.1 }, 'top_p'],
  ...[0, -5, 1.5, '10'].map((max_tokens): [Record<string, unknown>, string] => [
    { max_tokens },
    'max_tokens',
  ]),
  [{ max_completion_tokens: 0 }, 'max_completion_tokens'],
  ...[0, 129, '2'].map((n): [Record<string, unknown>, string] => [{ n }, 'n']),
  [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
  [{ stop: 1 }, 'stop'],
  [{ stop: [1] }, 'stop[0]'],
  [{ seed: 1.5 }, 'seed'],
  [{ seed: 'x' }, 'seed'],
  [{ presence_penalty: 3 }, 'presence_penalty'],
  [{ frequency_penalty: -3 }, 'frequency_penalty'],
  [{ logit_bias: 'x' }, 'logit_bias'],
  [{ logit_bias: { '50256': 'a' } }, 'logit_bias.50256'],
  [{ logprobs: 'true' }, 'logprobs'],
  [{ top_logprobs: 21 }, 'top_logprobs'],
  [{ user: 1 }, 'user'],
  [{ metadata: 'x' }, 'metadata'],
  [{ metadata: { purpose: 1 } }, 'metadata.purpose'],
  [{ tools: 'x' }, 'tools'],
  [{ tools: [{}] }, 'tools[0].type'],
  [{ tools: [{ type: 'function' }] }, 'tools[0].function'],
  [{ tools: [{ type: 'function', function: { name: 'bad name!' } }] }, 'tools[0].function.name'],
  [
    { tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] },
    'tools[0].function.parameters',
  ],
  [{ tool_choice: 'sometimes' }, 'tool_choice'],
  [{ tool_choice: { type: 'function' } }, 'tool_choice.function'],
  [{ parallel_tool_calls: 'yes' }, 'parallel_tool_calls'],
  [{ response_format: 'json' }, 'response_format'],
  [{ response_format: { type: 'xml' } }, 'response_format.type'],
  [{ response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
  [{ response_format: { type: 'json_schema', json_schema: {} } }, 'response_format.json_schema.name'],
];

/** Required fields left out: [body, param]. */
const MISSING: Array<[string, unknown, string]> = [
  [CHAT, { messages: [validMessage] }, 'model'],
  [CHAT, { model: 'mock' }, 'messages'],
  [CHAT, {}, 'model'],
  [EMBEDDINGS, { input: 'hi' }, 'model'],
  [EMBEDDINGS, { model: 'mock' }, 'input'],
  ['/chat', {}, 'message'],
  ['/chat', { model: 'mock' }, 'message'],
];

/** [body, param] for POST /v1/embeddings. */
const EMBEDDING_FIELDS: Array<[Record<string, unknown>, string]> = [
  [{ model: 'mock', input: 1 }, 'input'],
  [{ model: 'mock', input: {} }, 'input'],
  [{ model: 'mock', input: [] }, 'input'],
  [{ model: 'mock', input: [1.5] }, 'input[0]'],
  [{ model: 'mock', input: [[]] }, 'input[0]'],
  [{ model: 'mock', input: Array.from({ length: 2049 }, () => 'x') }, 'input'],
  [{ model: 7, input: 'hi' }, 'model'],
  [{ model: 'mock', input: 'hi', encoding_format: 'hex' }, 'encoding_format'],
  [{ model: 'mock', input: 'hi', dimensions: 0 }, 'dimensions'],
  [{ model: 'mock', input: 'hi', dimensions: '3' }, 'dimensions'],
  [{ model: 'mock', input: 'hi', user: 1 }, 'user'],
];

/** [body, param] for the strict POST /chat contract. */
const SIMPLE_CHAT_FIELDS: Array<[Record<string, unknown>, string]> = [
  [{ message: 1 }, 'message'],
  [{ message: '' }, 'message'],
  [{ message: ['hi'] }, 'message'],
  [{ message: 'hi', model: 1 }, 'model'],
  [{ message: 'hi', max_tokens: 0 }, 'max_tokens'],
  [{ message: 'hi', max_tokens: '5' }, 'max_tokens'],
  [{ message: 'hi', temperature: 1 }, 'temperature'],
];

/** Bodies that are not UTF-8: 400 invalid_json (never silently replaced by U+FFFD). */
const INVALID_UTF8: Record<string, number[]> = {
  'a 0xFF byte': [0xff],
  'an overlong slash': [0xc0, 0xaf],
  'a lone continuation byte': [0x80],
  'a truncated three-byte sequence': [0xe2, 0x82],
  'an encoded surrogate': [0xed, 0xa0, 0x80],
  'Latin-1 é': [0xe9],
  'a five-byte sequence': [0xf8, 0x88, 0x80, 0x80, 0x80],
};

function withBytes(bytes: number[]): Buffer {
  return Buffer.concat([
    Buffer.from('{"model":"mock","messages":[{"role":"user","content":"caf'),
    Buffer.from(bytes),
    Buffer.from('"}]}'),
  ]);
}

function nested(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

const bigContent = 'a'.repeat(BODY_LIMIT + 4096);

/** The whole corpus, generated. */
export function malformedCorpus(): MalformedCase[] {
  const cases: MalformedCase[] = [];
  const add = (entry: MalformedCase) => cases.push(entry);

  for (const [name, text] of Object.entries(BAD_JSON)) {
    add({
      name: `bad JSON: ${name}`,
      bytes: post(CHAT, text),
      status: 400,
      code: 'invalid_json',
      param: null,
    });
  }
  add({
    name: 'bad JSON on /v1/embeddings',
    bytes: post(EMBEDDINGS, '{"model":"mock","input":"hi",}'),
    status: 400,
    code: 'invalid_json',
  });
  add({
    name: 'bad JSON on /chat',
    bytes: post('/chat', "{'message':'hi'}"),
    status: 400,
    code: 'invalid_json',
  });
  for (const text of NOT_OBJECTS) {
    add({
      name: `not an object: ${text}`,
      bytes: post(CHAT, text),
      status: 400,
      code: 'invalid_request',
      param: null,
    });
  }
  for (const [patch, param] of CHAT_FIELDS) {
    add({
      name: `chat field ${json(patch).slice(0, 90)}`,
      bytes: post(CHAT, json({ ...validChat, ...patch })),
      status: 400,
      code: 'invalid_request',
      param,
    });
  }
  add({
    name: 'chat field temperature 1e400 (Infinity after parsing)',
    bytes: post(CHAT, '{"model":"mock","messages":[{"role":"user","content":"hi"}],"temperature":1e400}'),
    status: 400,
    code: 'invalid_request',
    param: 'temperature',
  });
  add({
    name: 'chat field max_tokens beyond 2^53',
    bytes: post(CHAT, '{"model":"mock","messages":[{"role":"user","content":"hi"}],"max_tokens":1e300}'),
    status: 400,
    code: 'invalid_request',
    param: 'max_tokens',
  });
  for (const [path, body, param] of MISSING) {
    add({
      name: `missing ${param} on ${path} ${json(body)}`,
      bytes: post(path, json(body)),
      status: 400,
      code: 'invalid_request',
      param,
    });
  }
  for (const [body, param] of EMBEDDING_FIELDS) {
    add({
      name: `embeddings field ${json(body).slice(0, 90)}`,
      bytes: post(EMBEDDINGS, json(body)),
      status: 400,
      code: 'invalid_request',
      param,
    });
  }
  for (const [body, param] of SIMPLE_CHAT_FIELDS) {
    add({
      name: `/chat field ${json(body)}`,
      bytes: post('/chat', json(body)),
      status: 400,
      code: 'invalid_request',
      param,
    });
  }
  for (const [name, bytes] of Object.entries(INVALID_UTF8)) {
    add({
      name: `invalid UTF-8: ${name}`,
      bytes: post(CHAT, withBytes(bytes)),
      status: 400,
      code: 'invalid_json',
    });
  }
  add({
    name: 'invalid UTF-8: a UTF-16 body',
    bytes: post(CHAT, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json(validChat), 'utf16le')])),
    status: 400,
    code: 'invalid_json',
  });

  // Content types.
  for (const contentType of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/octet-stream',
  ]) {
    add({
      name: `content type ${contentType}`,
      bytes: post(CHAT, json(validChat), { 'content-type': contentType }),
      status: 415,
      code: 'unsupported_media_type',
    });
  }
  add({
    name: 'no content type with a body',
    bytes: post(CHAT, json(validChat), { 'content-type': null }),
    status: 415,
    code: 'unsupported_media_type',
  });

  // Oversized bodies.
  const oversized = json({ model: 'mock', messages: [{ role: 'user', content: bigContent }] });
  add({ name: 'body over the limit', bytes: post(CHAT, oversized), status: 413, code: 'request_too_large' });
  add({
    name: 'body over the limit on /v1/embeddings',
    bytes: post(EMBEDDINGS, json({ model: 'mock', input: bigContent })),
    status: 413,
    code: 'request_too_large',
  });
  add({
    name: 'body over the limit on /chat',
    bytes: post('/chat', json({ message: bigContent })),
    status: 413,
    code: 'request_too_large',
  });
  add({
    name: 'chunked body over the limit',
    bytes: post(
      CHAT,
      Buffer.from(`${Buffer.byteLength(oversized).toString(16)}\r\n${oversized}\r\n0\r\n\r\n`),
      { 'content-length': null, 'transfer-encoding': 'chunked' },
    ),
    status: 413,
    code: 'request_too_large',
  });
  add({
    name: 'Content-Length of a terabyte',
    bytes: post(CHAT, '{}', { 'content-length': String(10 ** 12) }),
    status: 413,
    code: 'request_too_large',
  });

  // Deep nesting: refused before parsing, whatever the depth.
  add({
    name: '10,000 open brackets',
    bytes: post(CHAT, '['.repeat(10_000)),
    status: 400,
    code: 'invalid_json',
  });
  add({
    name: '10,000 nested arrays, well formed',
    bytes: post(CHAT, nested(10_000, '[', ']')),
    status: 400,
    code: 'invalid_json',
  });
  add({
    name: '10,000 nested objects',
    bytes: post(CHAT, nested(10_000, '{"a":', '}')),
    status: 400,
    code: 'invalid_json',
  });
  add({
    name: '65 nested levels inside message content',
    bytes: post(
      CHAT,
      `{"model":"mock","messages":[{"role":"user","content":${nested(63, '[', ']', '"x"')}}]}`,
    ),
    status: 400,
    code: 'invalid_json',
  });

  // Huge arrays (within the body limit).
  const filler = (count: number, item: string) => Array.from({ length: count }, () => item).join(',');
  add({
    name: '5,000 empty messages',
    bytes: post(CHAT, `{"model":"mock","messages":[${filler(5_000, '{}')}]}`),
    status: 400,
    code: 'invalid_request',
    param: 'messages[0].role',
  });
  add({
    name: '20,000 numbers as messages',
    bytes: post(CHAT, `{"model":"mock","messages":[${filler(20_000, '1')}]}`),
    status: 400,
    code: 'invalid_request',
    param: 'messages[0]',
  });
  add({
    name: '3,000 bogus content parts',
    bytes: post(
      CHAT,
      `{"model":"mock","messages":[{"role":"user","content":[${filler(3_000, '{"type":"x"}')}]}]}`,
    ),
    status: 400,
    code: 'invalid_request',
    param: 'messages[0].content[0].type',
  });
  add({
    name: '129 tools',
    bytes: post(
      CHAT,
      json({
        ...validChat,
        tools: Array.from({ length: 129 }, (_, index) => ({
          type: 'function',
          function: { name: `f${index}` },
        })),
      }),
    ),
    status: 400,
    code: 'invalid_request',
    param: 'tools',
  });
  add({
    name: '5,000 stop sequences',
    bytes: post(
      CHAT,
      `{"model":"mock","messages":[{"role":"user","content":"hi"}],"stop":[${filler(5_000, '"s"')}]}`,
    ),
    status: 400,
    code: 'invalid_request',
    param: 'stop',
  });
  add({
    name: '5,000 logit_bias entries with wrong values',
    bytes: post(
      CHAT,
      `{"model":"mock","messages":[{"role":"user","content":"hi"}],"logit_bias":{${Array.from({ length: 5_000 }, (_, index) => `"${index}":"x"`).join(',')}}}`,
    ),
    status: 400,
    code: 'invalid_request',
    param: 'logit_bias.0',
  });

  // Prototype pollution attempts.
  const poison: Record<string, string> = {
    '__proto__ at the top': `{"__proto__":{"admin":true},"model":"mock","messages":[${json(validMessage)}]}`,
    'constructor.prototype at the top': `{"constructor":{"prototype":{"admin":true}},"model":"mock","messages":[${json(validMessage)}]}`,
    '__proto__ inside a message': `{"model":"mock","messages":[{"role":"user","content":"hi","__proto__":{"role":"system"}}]}`,
    '__proto__ inside tool parameters': `{"model":"mock","messages":[${json(validMessage)}],"tools":[{"type":"function","function":{"name":"f","parameters":{"__proto__":{"x":1}}}}]}`,
    '__proto__ spelled with escapes': `{"\\u005f_proto__":{"admin":true},"model":"mock","messages":[${json(validMessage)}]}`,
    '__proto__ on /chat': '{"message":"hi","__proto__":{"admin":true}}',
  };
  for (const [name, text] of Object.entries(poison)) {
    add({ name: `prototype pollution: ${name}`, bytes: post(CHAT, text), status: 400, code: 'invalid_json' });
  }

  // Empty bodies.
  add({
    name: 'empty body with a JSON content type',
    bytes: post(CHAT, ''),
    status: 400,
    code: 'invalid_json',
  });
  add({
    name: 'no body and no content type',
    bytes: httpRequest('POST', CHAT, undefined, { 'content-length': '0' }),
    status: 400,
    code: 'invalid_request',
    param: null,
  });
  add({
    name: 'empty body on /v1/embeddings',
    bytes: post(EMBEDDINGS, ''),
    status: 400,
    code: 'invalid_json',
  });

  // Framing that lies.
  const head = `POST ${CHAT} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nconnection: close\r\n`;
  const framing: Record<string, string> = {
    'a chunk longer than its data': `${head}transfer-encoding: chunked\r\n\r\n40\r\n{"model":"mock"}\r\n0\r\n\r\n`,
    'a chunk size that is not hex': `${head}transfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    'chunk data without its CRLF': `${head}transfer-encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n`,
    'a chunked body that never ends': `${head}transfer-encoding: chunked\r\n\r\n2\r\n{}\r\n`,
    'both Content-Length and Transfer-Encoding': `${head}content-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    'Content-Length longer than the body': `${head}content-length: 500\r\n\r\n{"model":"mock"}`,
    'Content-Length shorter than the body': `${head}content-length: 5\r\n\r\n${json(validChat)}`,
    'a negative Content-Length': `${head}content-length: -1\r\n\r\n{}`,
    'two different Content-Lengths': `${head}content-length: 2\r\ncontent-length: 3\r\n\r\n{}`,
    'a Content-Length that is not a number': `${head}content-length: abc\r\n\r\n{}`,
    'an unknown transfer coding': `${head}transfer-encoding: gzip\r\n\r\n{}`,
  };
  for (const [name, text] of Object.entries(framing)) {
    add({
      name: `framing: ${name}`,
      bytes: Buffer.from(text, 'latin1'),
      status: 400,
      code: 'malformed_http',
    });
  }

  // Odd methods, paths and request lines.
  for (const [method, path] of [
    ['GET', CHAT],
    ['PUT', CHAT],
    ['DELETE', CHAT],
    ['PATCH', EMBEDDINGS],
    ['GET', '/chat'],
    ['POST', '/v1/models'],
    ['DELETE', '/v1/models/mock'],
    ['OPTIONS', CHAT],
    ['TRACE', CHAT],
  ] as const) {
    add({
      name: `method ${method} ${path}`,
      bytes: httpRequest(method, path),
      status: 405,
      code: 'method_not_allowed',
    });
  }
  add({
    name: 'method HEAD on a POST route',
    bytes: httpRequest('HEAD', CHAT),
    status: 405,
    code: 'method_not_allowed',
    noBody: true,
  });
  add({
    name: 'method CONNECT',
    bytes: httpRequest('CONNECT', '127.0.0.1:443'),
    status: 405,
    code: 'method_not_allowed',
  });
  add({ name: 'an unknown method', bytes: httpRequest('BREW', CHAT), status: 400, code: 'malformed_http' });
  for (const path of [
    '/v1/nope',
    '/v2/chat/completions',
    '/v1/chat/completions/extra',
    '/v1/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/v1//chat/completions',
  ]) {
    add({ name: `unknown path ${path}`, bytes: post(path, json(validChat)), status: 404, code: 'not_found' });
  }
  add({
    name: 'unknown model id',
    bytes: httpRequest('GET', '/v1/models/no-such-model'),
    status: 404,
    code: 'model_not_found',
  });
  add({
    name: 'bad percent-encoding in the URL',
    bytes: httpRequest('GET', '/v1/models/%zz'),
    status: 400,
    code: 'malformed_http',
  });
  add({
    name: 'a 20 KB URL',
    bytes: httpRequest('GET', `/v1/models/${'a'.repeat(20_000)}`),
    status: 431,
    code: 'headers_too_large',
  });
  add({
    name: 'a 20 KB header',
    bytes: post(CHAT, json(validChat), { 'x-padding': 'a'.repeat(20_000) }),
    status: 431,
    code: 'headers_too_large',
  });
  add({
    name: 'a NUL byte in a header value',
    bytes: post(CHAT, json(validChat), { 'x-odd': 'a\u0000b' }),
    status: 400,
    code: 'malformed_http',
  });
  add({
    name: 'a header line without a colon',
    bytes: Buffer.from(`POST ${CHAT} HTTP/1.1\r\nhost: 127.0.0.1\r\nno colon here\r\n\r\n`, 'latin1'),
    status: 400,
    code: 'malformed_http',
  });
  add({
    name: 'HTTP/1.1 without a Host header',
    bytes: post(CHAT, json(validChat), { host: null }),
    status: 400,
    code: 'malformed_http',
  });
  add({
    name: 'an HTTP/2 preface on the HTTP/1.1 port',
    bytes: Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
    status: 400,
    code: 'malformed_http',
  });
  add({
    name: 'an unsupported HTTP version',
    bytes: Buffer.from(`GET /v1/models HTTP/3.7\r\nhost: 127.0.0.1\r\n\r\n`, 'latin1'),
    status: 400,
    code: 'malformed_http',
  });
  return cases;
}
