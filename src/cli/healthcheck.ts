import { Command } from 'commander';
import { http } from '../node-http.js';

/** GET `url`; resolves with the status code, rejects on a connection error or after `timeoutMs`. */
function probe(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

/**
 * `gantry healthcheck`: exits 0 when /health answers 200 — for Docker HEALTHCHECK without curl.
 * Docker runs it every few seconds, so it uses node:http and loads nothing else.
 */
export function healthcheckCommand() {
  return new Command('healthcheck')
    .description('probe a running gateway: exit 0 when GET /health answers 200')
    .option('--url <url>', 'URL to probe', `http://127.0.0.1:${process.env.PORT ?? '8000'}/health`)
    .option('--timeout <ms>', 'timeout in milliseconds', '3000')
    .action(async (options: { url: string; timeout: string }) => {
      try {
        const status = await probe(options.url, Number(options.timeout));
        process.exit(status === 200 ? 0 : 1);
      } catch (error) {
        process.stderr.write(`healthcheck failed: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}
