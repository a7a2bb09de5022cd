import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.js';
import { describeConnectionError } from './describe-connection-error.js';

const CONNECT_TIMEOUT_MS = 5_000;
/** A command that gets no answer in this time fails, so a hung Redis cannot hang requests. */
const COMMAND_TIMEOUT_MS = 1_000;

export interface RedisHandle {
  readonly client: Redis;
  /** A second connection for pub/sub (a subscribed connection cannot run other commands). */
  readonly subscriber: Redis;
  ping(): Promise<void>;
  close(): Promise<void>;
}

function connectionOptions(logger: Logger) {
  let warned = false;
  return {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Fail fast while disconnected instead of queueing: callers decide (on_store_error).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt: number) => {
      if (!warned) {
        warned = true;
        logger.warn('redis connection lost; reconnecting');
      }
      return Math.min(attempt * 200, 2_000);
    },
  };
}

/** Connects to Redis; throws an Error naming REDIS_URL when it cannot (refused, auth, timeout). */
export async function openRedis(url: string, logger: Logger): Promise<RedisHandle> {
  const client = new Redis(url, connectionOptions(logger));
  const subscriber = new Redis(url, connectionOptions(logger));
  for (const connection of [client, subscriber]) {
    // Errors are reported by the commands that fail; the event itself must not crash the process.
    connection.on('error', () => {});
    connection.on('ready', () => logger.debug('redis connected'));
  }
  try {
    await Promise.all([connectOnce(client), connectOnce(subscriber)]);
  } catch (error) {
    client.disconnect();
    subscriber.disconnect();
    throw new Error(describeConnectionError('redis.url (REDIS_URL)', url, error));
  }
  return {
    client,
    subscriber,
    async ping() {
      await client.ping();
    },
    async close() {
      await Promise.allSettled([client.quit(), subscriber.quit()]);
    },
  };
}

/** The first connection attempt, without the reconnect loop hiding a wrong URL or password. */
async function connectOnce(connection: Redis): Promise<void> {
  let lastError: unknown;
  const onError = (error: unknown) => {
    lastError = error;
  };
  connection.on('error', onError);
  try {
    await Promise.race([
      connection.connect(),
      new Promise((_, reject) =>
        setTimeout(() => reject(lastError ?? new Error('timed out')), CONNECT_TIMEOUT_MS).unref(),
      ),
    ]);
  } catch (error) {
    throw lastError ?? error;
  } finally {
    connection.off('error', onError);
  }
}
