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
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'api_key',
          '*.api_key',
          'apiKey',
          '*.apiKey',
          'master_key',
          '*.master_key',
          'password',
          '*.password',
          'secret',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pinoDestination({ dest: 1, sync: false }),
  );
}

export type { Logger };
