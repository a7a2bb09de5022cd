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
  const buffered = destination === undefined ? bufferedStdout() : undefined;
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
      // Warnings and errors are written at once; only info and debug lines wait in the buffer.
      hooks: {
        logMethod(args, method, level) {
          method.apply(this, args);
          if (level >= WARN_LEVEL && buffered) flushNow(buffered);
        },
      },
    },
    destination ?? buffered!,
  );
}

const WARN_LEVEL = 40;

type BufferedStream = ReturnType<typeof pinoDestination>;

function flushNow(stream: BufferedStream): void {
  try {
    stream.flush();
  } catch {
    // the stream is closing: exit flushes what is left
  }
}

/** Longest a log line waits in the buffer before it is written. */
const FLUSH_INTERVAL_MS = 200;

/**
 * Stdout, written in batches: one write per ~4 KiB of lines instead of one per line (a write per
 * access-log line costs a thread-pool round trip per request), and at least every 200 ms so that
 * a quiet server's lines still appear promptly. pino flushes it synchronously on exit.
 */
function bufferedStdout(): BufferedStream {
  const stream = pinoDestination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => flushNow(stream), FLUSH_INTERVAL_MS).unref();
  return stream;
}

export type { Logger };
