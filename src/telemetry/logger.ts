import { type DestinationStream, type Logger, pino, destination as pinoDestination } from 'pino';
import type { Config } from '../config/load.js';

/**
 * JSON logs on stdout. Secrets are redacted wherever they might appear; prompts and completions
 * are never passed to the logger at all.
 */
export function createLogger(
  config: Pick<Config, 'logging' | 'app'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logging.level,
      base: { service: config.app.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Defence in depth only: secrets are never handed to the logger. Exact paths keep redaction
      // cheap (wildcard paths cost several percent of CPU on the access-log hot path).
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'api_key',
          'apiKey',
          'master_key',
          'password',
          'secret',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pinoDestination({ dest: 1, sync: false }),
  );
}

export type { Logger };
