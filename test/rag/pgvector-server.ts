import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A PostgreSQL server with pgvector for the RAG suite: PGVECTOR_URL when set (CI sets it), else a
 * throw-away `pgvector/pgvector:pg17` container when Docker works. With CI=true and neither, the
 * suite fails instead of silently running on PGlite alone.
 */
export interface PgvectorServer {
  /** URL of a fresh database of its own on that server. */
  readonly url: string;
  close(): Promise<void>;
}

const IMAGE = 'pgvector/pgvector:pg17';

export function pgvectorAvailability(): 'url' | 'docker' | 'none' {
  if (process.env.PGVECTOR_URL) return 'url';
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore', timeout: 20_000 });
    return 'docker';
  } catch {
    return 'none';
  }
}

/** Backends the suite runs on, printed so a reader of the output knows. */
export function ragVariants(): Array<'pglite' | 'pgvector'> {
  const availability = pgvectorAvailability();
  if (availability === 'none' && process.env.CI === 'true') {
    throw new Error(
      `RAG suite: CI=true but neither PGVECTOR_URL is set nor the ${IMAGE} image available to Docker; ` +
        'run `bash ../shared/docker/standins.sh` or set PGVECTOR_URL',
    );
  }
  const variants: Array<'pglite' | 'pgvector'> =
    availability === 'none' ? ['pglite'] : ['pglite', 'pgvector'];
  console.log(
    `[rag tests] backends: ${variants.join(', ')}` +
      (availability === 'none'
        ? ' (set PGVECTOR_URL or make Docker available to also run on pgvector)'
        : ` (pgvector via ${availability})`),
  );
  return variants;
}

export async function startPgvector(): Promise<PgvectorServer> {
  let serverUrl = process.env.PGVECTOR_URL;
  let container: string | undefined;
  if (!serverUrl) {
    const password = randomBytes(8).toString('hex');
    container = execFileSync(
      'docker',
      ['run', '-d', '--rm', '-e', `POSTGRES_PASSWORD=${password}`, '-p', '127.0.0.1::5432', IMAGE],
      { encoding: 'utf8', timeout: 60_000 },
    ).trim();
    const port = execFileSync('docker', ['port', container, '5432/tcp'], { encoding: 'utf8' })
      .trim()
      .split('\n')[0]!
      .split(':')
      .at(-1);
    serverUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    await waitForServer(serverUrl, container);
  }
  const name = `gantry_rag_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async close() {
      if (container) {
        execFileSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
        return;
      }
      await withClient(serverUrl!, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function waitForServer(url: string, container: string) {
  const deadline = Date.now() + 90_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      // The image restarts the server once after initdb: wait for two good answers a moment apart.
      await withClient(url, (client) => client.query('select 1'));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await withClient(url, (client) => client.query('select 1'));
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  execFileSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
  throw new Error(`the ${IMAGE} container did not accept connections: ${(lastError as Error)?.message}`);
}
