import { Command } from 'commander';
import { request } from 'undici';

/** `gantry healthcheck`: exits 0 when /health answers 200 — for Docker HEALTHCHECK without curl. */
export function healthcheckCommand() {
  return new Command('healthcheck')
    .description('probe a running gateway: exit 0 when GET /health answers 200')
    .option('--url <url>', 'URL to probe', `http://127.0.0.1:${process.env.PORT ?? '8000'}/health`)
    .option('--timeout <ms>', 'timeout in milliseconds', '3000')
    .action(async (options: { url: string; timeout: string }) => {
      try {
        const response = await request(options.url, { signal: AbortSignal.timeout(Number(options.timeout)) });
        await response.body.dump();
        process.exit(response.statusCode === 200 ? 0 : 1);
      } catch (error) {
        process.stderr.write(`healthcheck failed: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}
