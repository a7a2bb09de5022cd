import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import type { createCollectionsClient } from '../rag/collections-client.js';
import { loadConfigOrExit } from './load-config-or-exit.js';

/** Files a directory argument expands to. */
const DOCUMENT_GLOB = '**/*.{md,markdown,mdx,txt,text,html,htm}';
/** Bytes of documents per upload request (well under the gateway's 10 MiB body limit). */
const UPLOAD_BYTES = 2 * 1024 * 1024;

interface IngestOptions {
  collection: string;
  url?: string;
  apiKey?: string;
  config?: string;
  wait: boolean;
  metadata?: string;
}

/** Files named by paths, directories and globs, sorted and without repeats. */
export async function expandPaths(patterns: readonly string[]): Promise<string[]> {
  const { glob } = await import('tinyglobby');
  const files = new Set<string>();
  for (const pattern of patterns) {
    const info = await stat(pattern).catch(() => undefined);
    if (info?.isFile()) files.add(pattern);
    else if (info?.isDirectory())
      for (const file of await glob(DOCUMENT_GLOB, { cwd: pattern, absolute: true })) files.add(file);
    else for (const file of await glob(pattern, { onlyFiles: true })) files.add(file);
  }
  return [...files].sort();
}

/** `gantry ingest <path|glob…> --collection NAME`: uploads documents to a running gateway and follows their ingestion. */
export function ingestCommand() {
  return new Command('ingest')
    .description(
      'upload text, Markdown and HTML files to a collection of a running gateway, then wait for ingestion',
    )
    .argument('<paths...>', 'files, directories or globs (quote globs: "docs/**/*.md")')
    .requiredOption('--collection <name>', 'collection name or id (created when missing)')
    .addOption(new Option('--url <url>', 'gateway URL (default: http://127.0.0.1:$PORT)').env('GANTRY_URL'))
    .addOption(new Option('--api-key <key>', 'API key').env('GANTRY_API_KEY'))
    .option('--metadata <json>', 'metadata (JSON object) for every document')
    .option('--no-wait', 'return once uploaded, without waiting for ingestion')
    .option('-c, --config <file>', 'YAML configuration file (for the default URL)')
    .action(async (paths: string[], options: IngestOptions) => {
      // Loaded on use: no other command needs the progress bars or the HTTP client.
      const [{ default: cliProgress }, { createCollectionsClient }] = await Promise.all([
        import('cli-progress'),
        import('../rag/collections-client.js'),
      ]);
      const url = options.url ?? defaultUrl(options.config);
      const client = createCollectionsClient({ url, apiKey: options.apiKey });
      const metadata = options.metadata ? (JSON.parse(options.metadata) as object) : undefined;
      const files = await expandPaths(paths);
      if (files.length === 0) fail(`no files match ${paths.join(' ')}`);
      try {
        const collection = await client.ensureCollection(options.collection);
        const bar = new cliProgress.SingleBar(
          { format: '{phase} [{bar}] {value}/{total} {detail}', stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(files.length, 0, { phase: 'upload', detail: '' });
        let added = 0;
        let deduplicated = 0;
        let batch: Array<{ name: string; content: string; metadata?: object }> = [];
        let batchBytes = 0;
        const flush = async () => {
          if (batch.length === 0) return;
          const result = await client.addDocuments(collection.id, batch);
          for (const document of result.data) document.deduplicated ? deduplicated++ : added++;
          bar.increment(batch.length, { detail: `${added} new, ${deduplicated} unchanged` });
          batch = [];
          batchBytes = 0;
        };
        for (const file of files) {
          const content = await readFile(file, 'utf8');
          if (batchBytes + content.length > UPLOAD_BYTES) await flush();
          batch.push({ name: file, content, ...(metadata ? { metadata } : {}) });
          batchBytes += content.length;
        }
        await flush();
        bar.stop();
        if (options.wait) await follow(client, collection.id);
        const final = await client.collection(collection.id);
        process.stderr.write(
          `collection ${collection.id}: ${added} added, ${deduplicated} unchanged; ` +
            `${final.documents.ready} ready, ${final.documents.failed} failed, ` +
            `${final.documents.queued + final.documents.processing} pending\n`,
        );
        process.exit(final.documents.failed > 0 ? 2 : 0);
      } catch (error) {
        fail((error as Error).message);
      }
    });
}

async function follow(client: ReturnType<typeof createCollectionsClient>, id: string) {
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: 'ingest [{bar}] {value}/{total} ready {detail}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let counts = (await client.collection(id)).documents;
  bar.start(counts.total, counts.ready + counts.failed, { detail: '' });
  while (counts.queued + counts.processing > 0) {
    await sleep(500);
    counts = (await client.collection(id)).documents;
    bar.setTotal(counts.total);
    bar.update(counts.ready + counts.failed, { detail: counts.failed ? `(${counts.failed} failed)` : '' });
  }
  bar.stop();
}

export function defaultUrl(configFile: string | undefined): string {
  const config = loadConfigOrExit({ env: process.env, file: configFile });
  const host =
    config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  return `http://${host}:${config.server.port}`;
}

function fail(message: string): never {
  process.stderr.write(`gantry: ${message}\n`);
  process.exit(1);
}
