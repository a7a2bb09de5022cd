import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeUpstream,
  startFakeUpstream,
  streamThenReset,
  streamThenStall,
} from '../faults/fake-upstream.js';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import { admin, MASTER_KEY, startStateGantry } from '../state/state-gantry.js';
import { createTestDatabase, databaseVariants, type TestDatabase } from '../storage/test-database.js';
import { echoAnswer, receivedMessages, toolCallAnswer } from './answers.js';

function gantryConfig(upstream: FakeUpstream) {
  return `
app: { default_model: echo }
logging: { level: warn }
routing:
  retry: { max_attempts: 1 }
  circuit_breaker: { consecutive_failures: 10000, min_requests: 10000 }
models:
  - alias: echo
    deployments:
      - { id: fake, provider: openai-compatible, model: up-model, base_url: "${upstream.baseUrl}" }
`;
}

function sdk(gantry: GantryProcess, apiKey: string) {
  return new OpenAI({ baseURL: `${gantry.url}/v1`, apiKey, maxRetries: 0 });
}

/** A conversation item as Gantry lists it: an id, `type: "message"` and the chat message's fields. */
interface Item {
  id: string;
  type: string;
  role: string;
  content?: unknown;
  tool_calls?: Array<{ function: { arguments: string } }>;
}

/** Every item of a conversation, in order, through the SDK's cursor pagination. */
async function allItems(client: OpenAI, id: string, pageSize = 3) {
  const items: Item[] = [];
  for await (const item of client.conversations.items.list(id, { limit: pageSize })) {
    items.push(item as unknown as Item);
  }
  return items;
}

/** Gantry's `item_count` extension of the conversation object. */
async function itemCount(client: OpenAI, id: string): Promise<number> {
  return ((await client.conversations.retrieve(id)) as unknown as { item_count: number }).item_count;
}

/** role:content, or role:tool_calls, for compact comparisons. */
function turns(messages: ReadonlyArray<{ role: string; content?: unknown; tool_calls?: unknown }>): string[] {
  return messages.map((message) =>
    message.tool_calls ? `${message.role}:tool_calls` : `${message.role}:${message.content}`,
  );
}

describe.each(databaseVariants())('conversations (%s)', (kind) => {
  let database: TestDatabase;
  let upstream: FakeUpstream;
  let gantry: GantryProcess;
  let alice: OpenAI;
  let bob: OpenAI;
  let aliceKey: string;
  let bobKey: string;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    upstream = await startFakeUpstream();
    gantry = await startStateGantry({
      configYaml: gantryConfig(upstream),
      env: { DATABASE_URL: database.url, DATA_DIR: database.dataDir },
    });
    aliceKey = (await admin(gantry, 'POST', '/admin/keys', { name: 'alice' })).body.key;
    bobKey = (await admin(gantry, 'POST', '/admin/keys', { name: 'bob' })).body.key;
    alice = sdk(gantry, aliceKey);
    bob = sdk(gantry, bobKey);
  }, 90_000);

  afterAll(async () => {
    await gantry?.stop();
    await upstream?.close();
    await database?.drop();
  });

  beforeEach(() => {
    upstream.reset();
    upstream.setDefault(echoAnswer());
  });

  it('creates, reads and deletes a conversation through the openai SDK', async () => {
    const created = await alice.conversations.create({
      metadata: { topic: 'greetings' },
      items: [
        { type: 'message', role: 'system', content: 'be brief' },
        { role: 'user', content: 'my name is Ada' },
      ],
    });
    expect(created.id).toMatch(/^conv_[0-9a-f]{48}$/);
    expect(created).toMatchObject({
      object: 'conversation',
      metadata: { topic: 'greetings' },
      item_count: 2,
    });
    expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(120);
    const read = await alice.conversations.retrieve(created.id);
    expect(read).toMatchObject({ id: created.id, metadata: { topic: 'greetings' }, item_count: 2 });
    const items = await allItems(alice, created.id);
    expect(items.map((item) => [item.id, item.type, item.role, item.content])).toEqual([
      ['item_1', 'message', 'system', 'be brief'],
      ['item_2', 'message', 'user', 'my name is Ada'],
    ]);
    const deleted = await alice.conversations.delete(created.id);
    expect(deleted).toEqual({ id: created.id, object: 'conversation.deleted', deleted: true });
    await expect(alice.conversations.retrieve(created.id)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
    const empty = await alice.conversations.create();
    expect(empty).toMatchObject({ metadata: {}, item_count: 0 });
  });

  it('sends the stored turns upstream and appends the new ones, with the field or the header', async () => {
    const { id } = await alice.conversations.create({ items: [{ role: 'user', content: 'my name is Ada' }] });

    const first = await alice.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'what is my name?' }],
      // @ts-expect-error Gantry's extension field: the conversation whose turns go first.
      conversation: id,
    });
    expect(first.choices[0]!.message.content).toBe('answer to what is my name?');
    expect(upstream.attempts).toHaveLength(1);
    const firstBody = upstream.attempts[0]!.body;
    expect(firstBody).not.toHaveProperty('conversation');
    expect(turns(receivedMessages(upstream.attempts[0]!))).toEqual([
      'user:my name is Ada',
      'user:what is my name?',
    ]);

    // Streamed, naming the conversation by header: the previous answer is now part of the history.
    const stream = await alice.chat.completions.create(
      { model: 'echo', stream: true, messages: [{ role: 'user', content: 'and again?' }] },
      { headers: { 'x-gantry-conversation': id } },
    );
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe('answer to and again?');
    expect(upstream.attempts[1]!.headers['x-gantry-conversation']).toBeUndefined();
    expect(turns(receivedMessages(upstream.attempts[1]!))).toEqual([
      'user:my name is Ada',
      'user:what is my name?',
      'assistant:answer to what is my name?',
      'user:and again?',
    ]);

    expect(turns(await allItems(alice, id))).toEqual([
      'user:my name is Ada',
      'user:what is my name?',
      'assistant:answer to what is my name?',
      'user:and again?',
      'assistant:answer to and again?',
    ]);
    expect(await itemCount(alice, id)).toBe(5);
  });

  it('keeps tool calls (streamed in pieces) and tool results as turns', async () => {
    const { id } = await alice.conversations.create();
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
      },
    ];
    upstream.enqueue(toolCallAnswer('get_weather', { city: 'Paris' }, 'call_42'));
    const stream = await alice.chat.completions.create(
      { model: 'echo', stream: true, tools, messages: [{ role: 'user', content: 'weather in Paris?' }] },
      { headers: { 'x-gantry-conversation': id } },
    );
    for await (const _chunk of stream) {
      // drain
    }
    await alice.chat.completions.create({
      model: 'echo',
      tools,
      messages: [{ role: 'tool', tool_call_id: 'call_42', content: '18°C, sunny' }],
      // @ts-expect-error Gantry's extension field.
      conversation: id,
    });
    const sent = receivedMessages(upstream.attempts[1]!);
    expect(sent.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(sent[1]!.tool_calls).toEqual([
      { id: 'call_42', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
    expect(sent[2]).toMatchObject({ role: 'tool', tool_call_id: 'call_42', content: '18°C, sunny' });
    const items = await allItems(alice, id);
    expect(turns(items)).toEqual([
      'user:weather in Paris?',
      'assistant:tool_calls',
      'tool:18°C, sunny',
      'assistant:answer to weather in Paris?',
    ]);
    expect(items[1]!.tool_calls![0]!.function.arguments).toBe('{"city":"Paris"}');
  });

  it('appends nothing when the upstream fails or the stream is cut', async () => {
    const { id } = await alice.conversations.create({ items: [{ role: 'user', content: 'start' }] });
    upstream.setDefault((response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'boom', type: 'server_error', code: null } }));
    });
    await expect(
      alice.chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: 'fails' }],
        // @ts-expect-error Gantry's extension field.
        conversation: id,
      }),
    ).rejects.toMatchObject({ status: 502 });

    upstream.setDefault(streamThenReset(3));
    const cut = await fetch(`${gantry.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${aliceKey}`,
        'content-type': 'application/json',
        'x-gantry-conversation': id,
      },
      body: JSON.stringify({ model: 'echo', stream: true, messages: [{ role: 'user', content: 'cut' }] }),
    });
    const text = await cut.text();
    expect(text).toContain('word1');
    expect(text).toContain('"error"');
    expect(text).not.toContain('[DONE]');
    expect(upstream.attempts).toHaveLength(2);

    expect(turns(await allItems(alice, id))).toEqual(['user:start']);
    expect(await itemCount(alice, id)).toBe(1);
  });

  it('appends nothing when the client leaves mid-stream', async () => {
    const { id } = await alice.conversations.create({ items: [{ role: 'user', content: 'start' }] });
    upstream.setDefault(streamThenStall(2));
    const controller = new AbortController();
    const response = await fetch(`${gantry.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: {
        authorization: `Bearer ${aliceKey}`,
        'content-type': 'application/json',
        'x-gantry-conversation': id,
      },
      body: JSON.stringify({ model: 'echo', stream: true, messages: [{ role: 'user', content: 'bye' }] }),
    });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('data:');
    controller.abort();
    // Gantry gives up the upstream call once the client has gone.
    await upstream.attempts[0]!.closed;
    expect(upstream.attempts[0]!.completed()).toBe(false);
    expect(turns(await allItems(alice, id))).toEqual(['user:start']);
  });

  it('appends answers served from the response cache', async () => {
    const history = [{ role: 'user' as const, content: 'same history' }];
    const first = await alice.conversations.create({ items: history });
    const second = await alice.conversations.create({ items: history });
    const ask = (id: string) =>
      alice.chat.completions.create(
        { model: 'echo', messages: [{ role: 'user', content: 'same question' }] },
        { headers: { 'x-gantry-conversation': id, 'x-gantry-cache': 'use' } },
      );
    await ask(first.id);
    const cached = await ask(second.id).withResponse();
    expect(cached.response.headers.get('x-gantry-cache')).toBe('hit');
    expect(upstream.attempts).toHaveLength(1);
    for (const id of [first.id, second.id]) {
      expect(turns(await allItems(alice, id))).toEqual([
        'user:same history',
        'user:same question',
        'assistant:answer to same question',
      ]);
    }
  });

  it('is scoped to the key that created it: other keys get 404 and nothing goes upstream', async () => {
    const { id } = await alice.conversations.create({ items: [{ role: 'user', content: 'secret' }] });
    const master = sdk(gantry, MASTER_KEY);
    for (const other of [bob, master]) {
      await expect(other.conversations.retrieve(id)).rejects.toMatchObject({ status: 404 });
      await expect(other.conversations.items.list(id)).rejects.toMatchObject({ status: 404 });
      await expect(other.conversations.delete(id)).rejects.toMatchObject({ status: 404 });
      await expect(
        other.chat.completions.create({
          model: 'echo',
          messages: [{ role: 'user', content: 'hello' }],
          // @ts-expect-error Gantry's extension field.
          conversation: id,
        }),
      ).rejects.toMatchObject({ status: 404, code: 'not_found', param: 'conversation' });
    }
    expect(upstream.attempts).toHaveLength(0);
    expect(turns(await allItems(alice, id))).toEqual(['user:secret']);
    // Bob's own conversations work as usual.
    const own = await bob.conversations.create();
    expect((await bob.conversations.retrieve(own.id)).id).toBe(own.id);
  });

  it('pages through items in order, both ways, and refuses bad cursors', async () => {
    const items = Array.from({ length: 7 }, (_, index) => ({
      role: 'user' as const,
      content: `m${index + 1}`,
    }));
    const { id } = await alice.conversations.create({ items });
    const all = await allItems(alice, id, 3);
    expect(all.map((item) => item.content)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const headers = { authorization: `Bearer ${aliceKey}` };
    const page = await fetch(`${gantry.url}/v1/conversations/${id}/items?limit=3&after=item_3`, { headers });
    expect(await page.json()).toMatchObject({
      object: 'list',
      first_id: 'item_4',
      last_id: 'item_6',
      has_more: true,
    });
    const backwards = await fetch(`${gantry.url}/v1/conversations/${id}/items?order=desc&after=item_3`, {
      headers,
    });
    const backwardsBody = (await backwards.json()) as { data: Array<{ id: string }>; has_more: boolean };
    expect(backwardsBody.data.map((item) => item.id)).toEqual(['item_2', 'item_1']);
    expect(backwardsBody.has_more).toBe(false);
    for (const query of ['after=m3', 'limit=0', 'limit=101', 'order=sideways', 'page=2']) {
      const bad = await fetch(`${gantry.url}/v1/conversations/${id}/items?${query}`, { headers });
      expect(bad.status, query).toBe(400);
    }
  });

  it('refuses ambiguous or malformed references, and unknown or deleted conversations', async () => {
    const { id } = await alice.conversations.create();
    const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      fetch(`${gantry.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${aliceKey}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }], ...body }),
      });
    const errorOf = async (response: Response) => ({
      status: response.status,
      ...((await response.json()) as { error: { code: string; param: string | null } }).error,
    });
    expect(await errorOf(await post({ conversation: 42 }))).toMatchObject({
      status: 400,
      param: 'conversation',
    });
    expect(
      await errorOf(await post({ conversation: id }, { 'x-gantry-conversation': 'conv_other' })),
    ).toMatchObject({ status: 400, param: 'conversation' });
    expect(await errorOf(await post({ conversation: id, n: 2 }))).toMatchObject({ status: 400, param: 'n' });
    expect(await errorOf(await post({ conversation: 'conv_missing' }))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    // The Responses API's object form names the same conversation.
    expect((await post({ conversation: { id } })).status).toBe(200);
    // `null` names none: the field is dropped and nothing is stored.
    expect((await post({ conversation: null })).status).toBe(200);
    expect(upstream.attempts.at(-1)!.body).not.toHaveProperty('conversation');
    expect(await itemCount(alice, id)).toBe(2);
    expect(
      (
        await fetch(`${gantry.url}/v1/conversations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${aliceKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ items: [{ role: 'user' }] }),
        })
      ).status,
    ).toBe(400);
    await alice.conversations.delete(id);
    expect(await errorOf(await post({ conversation: id }))).toMatchObject({ status: 404, code: 'not_found' });
    expect(upstream.attempts).toHaveLength(2);
  });

  it('appends concurrent completions on one conversation without interleaving or losing turns', async () => {
    const { id } = await alice.conversations.create({ items: [{ role: 'system', content: 'count' }] });
    // Answers finish in a shuffled order, so appends race each other.
    upstream.setDefault(echoAnswer(() => Math.floor(Math.random() * 40)));
    const count = 16;
    await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const question = `q${index}`;
        if (index % 2 === 0) {
          const answer = await alice.chat.completions.create({
            model: 'echo',
            messages: [{ role: 'user', content: question }],
            // @ts-expect-error Gantry's extension field.
            conversation: id,
          });
          expect(answer.choices[0]!.message.content).toBe(`answer to ${question}`);
          return;
        }
        const stream = await alice.chat.completions.create(
          { model: 'echo', stream: true, messages: [{ role: 'user', content: question }] },
          { headers: { 'x-gantry-conversation': id } },
        );
        for await (const _chunk of stream) {
          // drain
        }
      }),
    );
    const items = await allItems(alice, id, 100);
    expect(items).toHaveLength(1 + 2 * count);
    expect(items.map((item) => item.id)).toEqual(items.map((_, index) => `item_${index + 1}`));
    const pairs = new Set<string>();
    for (let index = 1; index < items.length; index += 2) {
      const question = items[index]!;
      expect(question.role).toBe('user');
      expect(items[index + 1]).toMatchObject({ role: 'assistant', content: `answer to ${question.content}` });
      pairs.add(String(question.content));
    }
    expect(pairs.size).toBe(count);
    expect(await itemCount(alice, id)).toBe(1 + 2 * count);
  }, 60_000);
});

describe('conversations in open dev mode (no master key)', () => {
  let gantry: GantryProcess;

  beforeAll(async () => {
    gantry = await startGantry({ env: { LOG_LEVEL: 'warn' } });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await fetch(`${gantry.url}/startup`)).ok) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 90_000);

  afterAll(async () => {
    await gantry?.stop();
  });

  it('keeps every anonymous caller in one shared scope', async () => {
    const first = sdk(gantry, 'anything');
    const second = sdk(gantry, 'something-else');
    const { id } = await first.conversations.create({ items: [{ role: 'user', content: 'shared' }] });
    await second.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: 'hi' }],
      // @ts-expect-error Gantry's extension field.
      conversation: id,
    });
    const plain = await fetch(`${gantry.url}/v1/conversations/${id}`);
    expect(((await plain.json()) as { item_count: number }).item_count).toBe(3);
  });
});
