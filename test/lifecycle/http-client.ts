import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/**
 * One request on its own new connection (no agent, no pooling), so tests see exactly what a fresh
 * client sees: a refused connection after the drain delay, a distinct worker under node:cluster.
 */
export function send(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return openRequest(url, options).done;
}

/** Like `send`, but also resolves `firstChunk` as soon as the first body bytes arrive (streams). */
export function openRequest(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  let onFirst: () => void = () => {};
  let onFirstError: (error: Error) => void = () => {};
  const firstChunk = new Promise<void>((resolve, reject) => {
    onFirst = resolve;
    onFirstError = reject;
  });
  firstChunk.catch(() => {});
  const done = new Promise<HttpResult>((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const clientRequest = httpRequest(
      url,
      {
        method: options.method ?? (payload ? 'POST' : 'GET'),
        agent: false,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text === '') onFirst();
          text += chunk;
        });
        response.on('end', () => {
          onFirst();
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text });
        });
        response.on('error', reject);
        response.on('aborted', () => reject(new Error(`response aborted after ${text.length} bytes`)));
      },
    );
    clientRequest.on('error', (error) => {
      onFirstError(error);
      reject(error);
    });
    clientRequest.end(payload);
  });
  // A test that fails early must not turn every still-open stream into an unhandled rejection.
  done.catch(() => {});
  return { firstChunk, done };
}

/** The content of a chat-completion SSE body: the deltas joined, whether it ended with [DONE], and any error event. */
export function parseChatStream(text: string) {
  let content = '';
  let done = false;
  let error: { code?: string; message?: string } | undefined;
  for (const event of text.split('\n\n')) {
    if (event.trim() === '') continue;
    const data = event
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice(6))
      .join('\n');
    if (event.startsWith('event: error')) {
      error = (JSON.parse(data) as { error: { code?: string; message?: string } }).error;
    } else if (data === '[DONE]') {
      done = true;
    } else if (data) {
      const chunk = JSON.parse(data) as { choices: Array<{ delta: { content?: string } }> };
      content += chunk.choices[0]?.delta.content ?? '';
    }
  }
  return { content, done, error };
}

/** Value of one Prometheus sample (sum over series matching every given label), or undefined. */
export function metricValue(metrics: string, name: string, labels: Record<string, string> = {}) {
  let total: number | undefined;
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    const matchesAll = Object.entries(labels).every(([key, value]) =>
      labelText.includes(`${key}="${value}"`),
    );
    if (!matchesAll) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits for GET /startup to answer 200 (state services started: the embedded database is slow to open). */
export function waitStarted(url: string) {
  return waitFor(
    async () => ((await send(`${url}/startup`)).status === 200 ? true : undefined),
    'startup',
    30_000,
  );
}
