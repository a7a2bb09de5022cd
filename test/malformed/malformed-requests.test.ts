import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGantry, type TestGantry } from '../faults/fault-rig.js';
import type { GantryProcess } from '../helpers/gantry-process.js';
import { BODY_LIMIT, type MalformedCase, malformedCorpus } from './corpus.js';
import { rawRequest } from './raw-http.js';

const corpus = malformedCorpus();

describe('a corpus of malformed requests against a running Gantry', () => {
  let client: TestGantry;
  let gantry: GantryProcess;
  const statuses: number[] = [];

  beforeAll(async () => {
    // No config file: the embedded mock serves `mock` for chat and embeddings.
    client = await startTestGantry('', { BODY_LIMIT: String(BODY_LIMIT), LOG_LEVEL: 'warn' });
    gantry = client.gantry;
  });
  afterAll(async () => {
    await client?.stop();
  });

  it('holds more than 100 distinct cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(100);
    expect(new Set(corpus.map((entry) => entry.name)).size).toBe(corpus.length);
  });

  it.each(corpus.map((entry) => [entry.name, entry] as const))('%s', async (_name, entry: MalformedCase) => {
    const response = await rawRequest(gantry.port, entry.bytes, { head: entry.noBody === true });
    statuses.push(response.status);
    expect(response.status, JSON.stringify(response.body).slice(0, 300)).toBe(entry.status);
    expect(response.headers['x-request-id']).toMatch(/\S/);
    if (entry.noBody) return;
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(response.body) as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatchObject({
      type: expect.any(String),
      message: expect.any(String),
      code: entry.code,
    });
    expect(body.error).toHaveProperty('param');
    expect(body.error.request_id).toBe(response.headers['x-request-id']);
    if (entry.param !== undefined) expect(body.error.param).toBe(entry.param);
  });

  it('answered every case with a 4xx and never a 5xx', () => {
    expect(statuses).toHaveLength(corpus.length);
    expect(statuses.filter((status) => status < 400 || status > 499)).toEqual([]);
  });

  it('is still alive and serving a normal chat afterwards, without having logged an internal error', async () => {
    expect(gantry.child.exitCode).toBeNull();
    const response = await fetch(`${gantry.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'still there?' }] }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { object: string }).object).toBe('chat.completion');
    const internal = gantry
      .logs()
      .filter((line) => line.error === 'internal_error' || line.level === 'error');
    expect(internal).toEqual([]);
  });
});
