import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../helpers/gantry-process.js';
import { type CommandOptions, docker, runCommand, uniqueSuffix, waitFor } from './docker.js';

/**
 * RAG in the Compose stack (owned by the RAG work, docs/rag.md): with the `rag` profile, documents
 * posted to the gateway are ingested by the separate `worker` service, not by the gateway.
 */
/** The production files (no dev override, which builds an image of its own), with the rag profile. */
const FILES = ['-f', 'compose.yaml', '-f', 'compose.prod.yaml', '--profile', 'rag'];

describe('docker compose: the worker service ingests documents queued through the gateway', () => {
  const project = `gantry-rag-${uniqueSuffix()}`;
  const directory = mkdtempSync(join(tmpdir(), 'gantry-compose-rag-'));
  const secrets = mkdtempSync(join(tmpdir(), 'gantry-secrets-rag-'));
  let url: string;
  let masterKey: string;
  let environment: Record<string, string>;

  const compose = (args: readonly string[], options: CommandOptions = {}) =>
    docker(['compose', '--project-name', project, '--project-directory', directory, ...FILES, ...args], {
      cwd: directory,
      ...options,
      env: { ...environment, ...options.env },
    });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      signal: AbortSignal.timeout(30_000),
      headers: {
        authorization: `Bearer ${masterKey}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    environment = {
      GANTRY_SECRETS_DIR: secrets,
      GANTRY_PORT: String(port),
      GANTRY_IMAGE: inject('image'),
      APP_MODE: 'prod',
      MODEL_NAME: 'mock',
      RAG_ENABLED: 'true',
    };
    cpSync(inject('buildContext'), directory, { recursive: true });
    copyFileSync(join(directory, '.env.example'), join(directory, '.env'));
    await runCommand('sh', [join(directory, 'deploy/compose/init-secrets.sh'), secrets]);
    masterKey = readFileSync(join(secrets, 'gantry_master_key'), 'utf8').trim();
    try {
      await compose(['up', '--detach', '--wait', '--no-build']);
    } catch (error) {
      const logs = await compose(['logs', '--no-color', '--tail', '40'], { allowFailure: true });
      throw new Error(`${(error as Error).message}\n--- compose logs ---\n${logs.stdout}${logs.stderr}`);
    }
  });

  afterAll(async () => {
    await compose(['down', '--volumes', '--remove-orphans', '--timeout', '10'], { allowFailure: true });
    rmSync(secrets, { recursive: true, force: true });
    rmSync(directory, { recursive: true, force: true });
  });

  it('runs the worker service healthy beside the gateway', async () => {
    const { stdout } = await compose(['ps', '--format', '{{.Service}} {{.Health}}']);
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual(
      expect.arrayContaining(['db healthy', 'gantry healthy', 'worker healthy']),
    );
    const ready = await api('GET', '/ready');
    expect(ready.body.checks.vector_store?.status).toBe('ok');
  });

  it('ingests documents posted to the gateway in the worker, then serves them in search', async () => {
    expect((await api('POST', '/v1/collections', { name: 'handbook' })).status).toBe(201);
    const subjects =
      'anchor bicycle compass dolphin ember falcon glacier harbor island juniper kettle lantern meadow nectar orchard pebble quarry raven saffron tundra'.split(
        ' ',
      );
    // Each page repeats its own subject, so the mock's hashed bag of words ranks it first.
    const documents = subjects.map((subject, index) => ({
      name: `page-${index}.md`,
      content: `# Page ${index}\n\nThis page is about ${subject}: ${subject}, ${subject} and more ${subject}.`,
    }));
    expect((await api('POST', '/v1/collections/handbook/documents', { documents })).status).toBe(202);
    await waitFor(
      'the worker to ingest 20 documents',
      async () =>
        (await api('GET', '/v1/collections/handbook')).body.documents.ready === 20 ? true : undefined,
      120_000,
    );
    const search = await api('POST', '/v1/collections/handbook/search', { query: 'raven', top_k: 1 });
    expect(search.body.data[0].document_name).toBe('page-17.md');
    // The gateway ingested nothing itself (no in-process worker next to PostgreSQL): the worker did.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^gantry_rag_chunks_ingested_total 0$/m);
    const { stdout } = await compose(['logs', '--no-color', 'worker']);
    expect(stdout).toContain('ingestion worker started');
  });
});
