import { Agent, fetch as undiciFetch } from 'undici';
import { freePort, type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import { createTestDatabase, SERVER_DATABASE_URL } from '../storage/test-database.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';

/** Gantry in front of two fake upstreams (A misbehaves on cue, B is the healthy fallback). */
export interface FaultRig extends TestGantry {
  readonly primary: FakeUpstream;
  readonly backup: FakeUpstream;
  reset(): void;
}

/** Short timeouts and a generous retry budget: each fault is judged on one request. */
export const RIG_RETRY = { maxAttempts: 2 } as const;

function deployment(id: string, baseUrl: string, extra = '') {
  return `      - { id: ${id}, provider: openai-compatible, model: up-model, base_url: "${baseUrl}"${extra} }`;
}

/** The master key the rig's Gantry requires; the rig's own requests carry it. */
export const RIG_MASTER_KEY = 'sk-fault-rig-master-key-0123456789';

export async function startFaultRig(env: Record<string, string> = {}): Promise<FaultRig> {
  const primary = await startFakeUpstream();
  const backup = await startFakeUpstream();
  // A port nothing listens on: connections are refused.
  const closed = `http://127.0.0.1:${await freePort()}/v1`;
  const slow = ', timeouts: { first_byte: 30s, idle: 30s }';
  const yaml = `
app: { default_model: solo }
logging: { level: warn }
routing:
  timeouts: { connect: 1s, first_byte: 300ms, idle: 300ms, total: 15s }
  retry:
    max_attempts: ${RIG_RETRY.maxAttempts}
    base_delay: 10ms
    max_delay: 50ms
    budget: { ratio: 1, min_per_second: 100, window: 10s }
  circuit_breaker: { consecutive_failures: 10000, min_requests: 10000 }
models:
  - alias: solo
    deployments:
${deployment('primary', primary.baseUrl)}
  - alias: pair
    deployments:
${deployment('pair-primary', primary.baseUrl)}
${deployment('pair-backup', backup.baseUrl)}
  - alias: refused
    deployments:
${deployment('closed-port', closed)}
${deployment('refused-backup', backup.baseUrl)}
  - alias: refused-only
    deployments:
${deployment('closed-port-only', closed)}
  - alias: capped
    deployments:
${deployment('capped-primary', primary.baseUrl, ', timeouts: { total: 800ms }')}
  - alias: slow
    deployments:
${deployment('slow-primary', primary.baseUrl, slow)}
`;
  const client = await startTestGantry(yaml, { GANTRY_MASTER_KEY: RIG_MASTER_KEY, ...env }, RIG_MASTER_KEY);
  return {
    ...client,
    primary,
    backup,
    reset() {
      primary.reset();
      backup.reset();
    },
    async stop() {
      await client.stop();
      await Promise.all([primary.close(), backup.close()]);
    },
  };
}

/** A started Gantry with a client of its own. */
export interface TestGantry {
  readonly gantry: GantryProcess;
  /** fetch over this client's own connection pool (destroyed on stop, so Gantry can shut down at once). */
  readonly fetch: typeof undiciFetch;
  /** POSTs JSON to Gantry and returns the response. */
  post(path: string, body: unknown, headers?: Record<string, string>): ReturnType<typeof undiciFetch>;
  /** The value of one sample on /metrics, e.g. `gantry_circuit_state{deployment="a"}`; undefined when absent. */
  metric(sample: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * Starts Gantry (the built CLI) with a YAML config and waits until its startup is complete. With
 * DATABASE_URL set (CI), its state lives in a fresh PostgreSQL database of its own, which starts in a
 * fraction of the embedded database's time; these suites need no state either way.
 */
export async function startTestGantry(
  yaml: string,
  env: Record<string, string> = {},
  apiKey?: string,
): Promise<TestGantry> {
  const database = SERVER_DATABASE_URL ? await createTestDatabase('postgres') : undefined;
  const gantry = await startGantry({
    configYaml: yaml,
    env: { ...(database?.url ? { DATABASE_URL: database.url } : {}), ...env },
  });
  await waitForStartup(gantry.url);
  const dispatcher = new Agent();
  const auth: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const fetch: typeof undiciFetch = (input, init) =>
    undiciFetch(input, {
      dispatcher,
      ...init,
      headers: { ...auth, ...(init?.headers as Record<string, string> | undefined) },
    });
  return {
    gantry,
    fetch,
    post: (path, body, headers = {}) =>
      fetch(`${gantry.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    async metric(sample) {
      const text = await (await fetch(`${gantry.url}/metrics`)).text();
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
      return line === undefined ? undefined : Number(line.slice(sample.length + 1));
    },
    async stop() {
      await dispatcher.destroy();
      await gantry.stop();
      await database?.drop();
    },
  };
}

/**
 * Waits for /startup: /health answers as soon as the port is open, but the state services (the
 * embedded database's migrations) keep the event loop busy for a while after that, which would
 * stretch the first requests' timings.
 */
export async function waitForStartup(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/startup`).catch(() => undefined);
    if (response?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gantry at ${url} did not finish starting within ${timeoutMs} ms`);
}

/** A chat request for an alias. */
export function chatRequest(model: string, stream = false) {
  return { model, stream, messages: [{ role: 'user', content: 'hello' }] };
}

/** An SSE event as the client received it. */
export interface ClientEvent {
  readonly event: string | undefined;
  readonly data: string;
}

/** Splits a complete SSE body into events (the bodies Gantry writes use LF line ends). */
export function parseSse(text: string): ClientEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      return { event, data: data.join('\n') };
    });
}

/** The text content carried by the chunk events of a stream. */
export function streamedText(events: readonly ClientEvent[]): string {
  return events
    .filter((event) => event.event === undefined && event.data !== '[DONE]')
    .map((event) => {
      const chunk = JSON.parse(event.data) as { choices: Array<{ delta?: { content?: string } }> };
      return chunk.choices.map((choice) => choice.delta?.content ?? '').join('');
    })
    .join('');
}

/** Asserts the OpenAI error envelope shape and returns its error object. */
export function envelopeOf(body: unknown): {
  message: string;
  type: string;
  param: unknown;
  code: string;
  request_id?: string;
} {
  const error = (body as { error?: Record<string, unknown> }).error;
  if (!error || typeof error !== 'object') throw new Error(`not an error envelope: ${JSON.stringify(body)}`);
  for (const key of ['message', 'type', 'param', 'code']) {
    if (!(key in error)) throw new Error(`error envelope lacks ${key}: ${JSON.stringify(body)}`);
  }
  if (typeof error.message !== 'string' || typeof error.type !== 'string' || typeof error.code !== 'string') {
    throw new Error(`error envelope has wrong field types: ${JSON.stringify(body)}`);
  }
  return error as ReturnType<typeof envelopeOf>;
}
