import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';

const CONFIG = `
app:
  default_model: mock
models:
  - alias: mock
    deployments:
      - provider: mock
        model: mock-1
        mock: { words: 24 }
  - alias: embedder
    deployments:
      - provider: mock
        model: mock-embed
        mock: { dimensions: 64 }
`;

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, celsius: { type: 'boolean' } },
      required: ['city'],
    },
  },
};

describe('the official openai SDK against a running Gantry (mock provider)', () => {
  let gantry: GantryProcess;
  let client: OpenAI;

  beforeAll(async () => {
    gantry = await startGantry({
      configYaml: CONFIG,
      env: { GANTRY_MASTER_KEY: 'sk-test-master-key-0123456789' },
    });
    client = new OpenAI({
      baseURL: `${gantry.url}/v1`,
      apiKey: 'sk-test-master-key-0123456789',
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await gantry?.stop();
  });

  it('creates a chat completion', async () => {
    const completion = await client.chat.completions.create({
      model: 'mock',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'Say hello' },
      ],
      temperature: 0.2,
      max_tokens: 50,
      seed: 7,
      user: 'user-1',
      metadata: { purpose: 'test' },
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('mock-1');
    expect(completion.choices[0]!.message.role).toBe('assistant');
    expect(completion.choices[0]!.message.content).toMatch(/^\[mock output\]/);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage!.completion_tokens).toBe(24);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + 24);
  });

  it('streams a chat completion ending with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
    }
    expect(chunks).toBeGreaterThan(24);
    expect(text.split(' ')).toHaveLength(24);
    expect(text).toMatch(/^\[mock output\]/);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBe(24);
  });

  it('streams without a usage chunk when the client did not ask for one', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: 'no usage' }],
      stream: true,
    });
    for await (const chunk of stream) {
      expect(chunk.usage ?? null).toBeNull();
      expect(chunk.choices.length).toBe(1);
    }
  });

  it('returns tool calls, non-stream and streamed', async () => {
    const completion = await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [weatherTool],
      tool_choice: 'required',
    });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'mock', celsius: true });

    const runner = client.chat.completions.stream({
      model: 'mock',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const final = await runner.finalChatCompletion();
    const streamedCall = final.choices[0]!.message.tool_calls![0]!;
    if (streamedCall.type !== 'function') throw new Error('expected a function call');
    expect(streamedCall.function.name).toBe('get_weather');
    expect(JSON.parse(streamedCall.function.arguments)).toEqual({ city: 'mock', celsius: true });
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('answers tool results in a follow-up turn', async () => {
    const completion = await client.chat.completions.create({
      model: 'mock',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
      ],
      tools: [weatherTool],
    });
    expect(completion.choices[0]!.message.content).toMatch(/^\[mock output\]/);
  });

  it('honours JSON mode and JSON schema', async () => {
    const jsonObject = await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: 'Give me JSON' }],
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(jsonObject.choices[0]!.message.content!)).toMatchObject({ mock: true });

    const jsonSchema = await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: 'Give me a person' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'person',
          schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } } },
        },
      },
    });
    expect(JSON.parse(jsonSchema.choices[0]!.message.content!)).toEqual({ name: 'mock', age: 1 });
  });

  it('accepts image content parts', async () => {
    const completion = await client.chat.completions.create({
      model: 'mock',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
          ],
        },
      ],
    });
    expect(completion.choices[0]!.message.content).toMatch(/^\[mock output\]/);
  });

  it('creates embeddings (float and base64)', async () => {
    const result = await client.embeddings.create({
      model: 'embedder',
      input: ['the cat sat', 'the cat sat down'],
    });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]!.embedding).toHaveLength(64);
    const [first, second] = result.data.map((item) => item.embedding);
    const cosine = first!.reduce((sum, value, index) => sum + value * second![index]!, 0);
    expect(cosine).toBeGreaterThan(0.5);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
    // The SDK asks for base64 by default when no format is given and decodes it itself.
    const single = await client.embeddings.create({ model: 'embedder', input: 'the cat sat' });
    expect(single.data[0]!.embedding[0]).toBeCloseTo(first![0]!, 5);
  });

  it('lists and retrieves models', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models.sort()).toEqual(['embedder', 'mock']);
    const model = await client.models.retrieve('mock');
    expect(model).toMatchObject({ id: 'mock', object: 'model' });
  });

  it('raises the SDK error classes', async () => {
    await expect(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      client.chat.completions.create({
        model: 'mock',
        messages: [{ role: 'wizard' as 'user', content: 'hi' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const wrongKey = new OpenAI({ baseURL: `${gantry.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(wrongKey.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(
      client.chat.completions.create({
        model: 'mock',
        messages: [{ role: 'user', content: 'fail #mock-error=429' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const serverError = await client.chat.completions
      .create({ model: 'mock', messages: [{ role: 'user', content: 'fail #mock-error=500' }] })
      .catch((error: unknown) => error);
    expect(serverError).toBeInstanceOf(OpenAI.InternalServerError);
    expect((serverError as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });
});
