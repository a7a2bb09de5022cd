import { request } from 'undici';

export interface ClientOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8000 */
  readonly url: string;
  readonly apiKey: string | undefined;
}

/** A small client of the /v1/collections API, for `gantry ingest` and `gantry search`. */
export function createCollectionsClient(options: ClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const upstreamResponse = await request(`${base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    const text = await upstreamResponse.body.text();
    if (upstreamResponse.statusCode >= 400) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`${method} ${path}: ${upstreamResponse.statusCode} ${message}`);
    }
    return JSON.parse(text) as T;
  }
  return {
    ensureCollection: (name: string) =>
      call<{ id: string; name: string }>('POST', '/v1/collections', { name }),
    collection: (id: string) =>
      call<{ id: string; documents: Record<'total' | 'queued' | 'processing' | 'ready' | 'failed', number> }>(
        'GET',
        `/v1/collections/${encodeURIComponent(id)}`,
      ),
    addDocuments: (id: string, documents: Array<{ name: string; content: string; metadata?: object }>) =>
      call<{ data: Array<{ id: string; deduplicated: boolean; status: string }> }>(
        'POST',
        `/v1/collections/${encodeURIComponent(id)}/documents`,
        { documents },
      ),
    search: (id: string, query: string, topK: number, filter?: object) =>
      call<{
        data: Array<{
          document_name: string | null;
          document_id: string;
          score: number;
          text: string;
          start_offset: number;
          end_offset: number;
        }>;
      }>('POST', `/v1/collections/${encodeURIComponent(id)}/search`, {
        query,
        top_k: topK,
        ...(filter ? { filter } : {}),
      }),
  };
}
