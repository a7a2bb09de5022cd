import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultUrl } from './ingest.js';

function topK(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100)
    throw new InvalidArgumentError('expected a number from 1 to 100');
  return Number(value);
}

/** `gantry search <query> --collection NAME`: the best chunks with scores and source spans. */
export function searchCommand() {
  return new Command('search')
    .description('search a collection of a running gateway')
    .argument('<query...>', 'what to look for')
    .requiredOption('--collection <name>', 'collection name or id')
    .option('-k, --top-k <n>', 'results', topK, 5)
    .option('--json', 'print the raw JSON answer')
    .addOption(new Option('--url <url>', 'gateway URL (default: http://127.0.0.1:$PORT)').env('GANTRY_URL'))
    .addOption(new Option('--api-key <key>', 'API key').env('GANTRY_API_KEY'))
    .option('-c, --config <file>', 'YAML configuration file (for the default URL)')
    .action(
      async (
        words: string[],
        options: {
          collection: string;
          topK: number;
          json?: boolean;
          url?: string;
          apiKey?: string;
          config?: string;
        },
      ) => {
        const { createCollectionsClient } = await import('../rag/collections-client.js');
        const client = createCollectionsClient({
          url: options.url ?? defaultUrl(options.config),
          apiKey: options.apiKey,
        });
        try {
          const result = await client.search(options.collection, words.join(' '), options.topK);
          if (options.json) {
            process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            return;
          }
          result.data.forEach((hit, index) => {
            const excerpt = hit.text.replace(/\s+/g, ' ').slice(0, 160);
            process.stdout.write(
              `${index + 1}. ${hit.score.toFixed(4)}  ${hit.document_name ?? hit.document_id} ` +
                `[${hit.start_offset}-${hit.end_offset}]\n   ${excerpt}\n`,
            );
          });
        } catch (error) {
          process.stderr.write(`gantry: ${(error as Error).message}\n`);
          process.exit(1);
        }
      },
    );
}
