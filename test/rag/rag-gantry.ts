import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';

export const MASTER_KEY = 'sk-master-rag-0123456789abcdef';

/** Config of the suite: small chunks (several per document), short leases so a killed worker's jobs return fast. */
export function ragConfig(options: { inProcessWorker?: boolean } = {}) {
  return `
models:
  - alias: mock
    deployments: [{ provider: mock, model: mock }]
  # The mock embeds a hashed bag of words: more dimensions, fewer collisions between unrelated words.
  - alias: embed
    deployments: [{ provider: mock, model: embed, mock: { dimensions: 1024 } }]
  - alias: handbook-chat
    deployments: [{ provider: mock, model: mock }]
    rag: { collection: handbook, top_k: 3 }
rag:
  enabled: true
  embedding_model: embed
  chunk_size: 96
  chunk_overlap: 16
  worker:
    concurrency: 2
    poll_interval: 100ms
    lease: 2s
    backoff_base: 200ms
    in_process: ${options.inProcessWorker === undefined ? 'auto' : options.inProcessWorker}
`;
}

export interface Backend {
  readonly kind: 'pglite' | 'pgvector';
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

export function backendEnv(backend: Backend): Record<string, string | undefined> {
  return { DATABASE_URL: backend.databaseUrl, DATA_DIR: backend.dataDir, GANTRY_MASTER_KEY: MASTER_KEY };
}

/** `gantry serve` (or `gantry worker`) on the backend; resolves once /startup (or /ready) answers 200. */
export async function startRagProcess(
  backend: Backend,
  command: 'serve' | 'worker',
  env: Record<string, string | undefined> = {},
  configYaml = ragConfig(),
): Promise<GantryProcess> {
  const gantry = await startGantry({
    args: [command],
    configYaml,
    env: { ...backendEnv(backend), LOG_LEVEL: 'info', ...env },
    readyTimeoutMs: 60_000,
  });
  // Not /ready for a worker: its database ping waits behind the embedded database's ingestion work.
  const probe = '/startup';
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${gantry.url}${probe}`).catch(() => undefined);
    if (response?.ok) return gantry;
    if (gantry.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await gantry.stop('SIGKILL');
  throw new Error(`gantry ${command} did not start:\n${gantry.output()}`);
}

export async function api(
  gantry: GantryProcess,
  method: string,
  path: string,
  body?: unknown,
  key = MASTER_KEY,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${gantry.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Uploads documents in batches. */
export async function upload(
  gantry: GantryProcess,
  collection: string,
  documents: ReadonlyArray<{ name: string; content: string; metadata?: Record<string, unknown> }>,
  key = MASTER_KEY,
) {
  const results: Array<{ id: string; deduplicated: boolean; status: string }> = [];
  for (let start = 0; start < documents.length; start += 100) {
    const response = await api(
      gantry,
      'POST',
      `/v1/collections/${collection}/documents`,
      { documents: documents.slice(start, start + 100) },
      key,
    );
    if (response.status >= 300 && response.status !== 200) throw new Error(JSON.stringify(response.body));
    results.push(...response.body.data);
  }
  return results;
}

/** Waits until nothing of the collection is queued or processing; returns its document counts. */
export async function waitForIngestion(gantry: GantryProcess, collection: string, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(gantry, 'GET', `/v1/collections/${collection}`);
    if (body.documents.queued + body.documents.processing === 0) return body.documents;
    if (Date.now() > deadline) throw new Error(`ingestion did not finish: ${JSON.stringify(body.documents)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A counter or gauge from a /metrics page; NaN while the process has not reported it yet. */
export async function metricValue(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}
