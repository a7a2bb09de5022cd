import cluster from 'node:cluster';
import { createChatCache } from '../cache/create-chat-cache.js';
import {
  createMemoryResponseCache,
  createRedisResponseCache,
  type ResponseCache,
} from '../cache/response-cache.js';
import type { Config } from '../config/load.js';
import { createChatConversations } from '../conversations/chat-conversations.js';
import { type ConversationStore, createConversationStore } from '../conversations/conversation-store.js';
import { GatewayError } from '../errors/gateway-error.js';
import { createKeyCache } from '../keys/key-cache.js';
import type { KeyRecord } from '../keys/key-store.js';
import { createKeyStore, type KeyStore } from '../keys/key-store.js';
import { createVirtualKeyAuthenticator } from '../keys/virtual-key-authenticator.js';
import { createBudgetTracker } from '../limits/budget-tracker.js';
import { createRequestPolicy } from '../limits/create-request-policy.js';
import type { Limiter } from '../limits/limiter.js';
import { createMemoryLimiter } from '../limits/memory-limiter.js';
import { createRedisLimiter } from '../limits/redis-limiter.js';
import type { Authenticator, Principal } from '../server/authenticate.js';
import type { ReadinessCheck } from '../server/readiness-check.js';
import type { RequestPolicy } from '../server/request-policy.js';
import { registerAdminKeys } from '../server/routes/admin-keys.js';
import { registerAdminUsage } from '../server/routes/admin-usage.js';
import { registerConversations } from '../server/routes/conversations.js';
import type { ServerContext } from '../server/server-context.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { createUsageBuffer } from '../usage/usage-buffer.js';
import type { UsageStore } from '../usage/usage-store.js';
import type { DatabaseHandle } from './open-database.js';
import type { RedisHandle } from './open-redis.js';
import { registerThreadHeapGauges } from './register-thread-heap-gauges.js';
import { createStateMetrics } from './state-metrics.js';

/**
 * Stateful services (database, Redis, keys, limits, usage, cache, conversations) as seen by the
 * request path. `serve` calls createState once, runs `start()` (migrations, connections) before
 * marking startup complete, and `close()` after the server has drained.
 */
export interface StateServices {
  readonly authenticator: Authenticator;
  readonly policy: RequestPolicy;
  readonly readinessChecks: readonly ReadinessCheck[];
  readonly plugins: NonNullable<ServerContext['plugins']>;
  start(): Promise<void>;
  /** Flushes pending writes (usage buffer) and closes connections. */
  close(): Promise<void>;
}

export interface StateOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Prefix of every Redis key and channel (tests isolate runs with it). */
  readonly redisPrefix?: string;
}

/** Channel on which replicas announce key changes, so revocations take effect everywhere at once. */
const KEY_CHANNEL = 'keys:invalidate';

/**
 * Builds the state services. Nothing connects until `start()`; until then authenticated requests
 * are answered 503 and usage is buffered.
 */
export async function createState(config: Config, options: StateOptions): Promise<StateServices> {
  const { logger } = options;
  const prefix = options.redisPrefix ?? 'gantry:';
  if (!config.database.url && cluster.isWorker) {
    throw new Error(
      'database.url (DATABASE_URL): required with more than one worker; the embedded database serves one process',
    );
  }
  const stateMetrics = createStateMetrics(options.metrics.registry);
  let database: DatabaseHandle | undefined;
  let redis: RedisHandle | undefined;
  let limiter: Limiter = createMemoryLimiter();
  let keyStore: KeyStore | undefined;
  let usageStore: UsageStore | undefined;
  let conversationStore: ConversationStore | undefined;

  const notStarted = () =>
    new GatewayError('service_unavailable', 'The gateway is starting; retry shortly.', {
      retryAfterSeconds: 1,
    });
  const keys = () => keyStore ?? raise(notStarted());
  const usage = () => usageStore ?? raise(notStarted());
  const conversations = () => conversationStore ?? raise(notStarted());

  const keyCache = createKeyCache({ load: (id) => keys().get(id), logger });
  const records = new WeakMap<Principal, KeyRecord>();
  const usageBuffer = createUsageBuffer({
    write: (batchId, batch) => usage().insert(batchId, batch),
    logger,
    flushIntervalMs: config.usage.flush_interval,
    batchSize: config.usage.batch_size,
    capacity: config.usage.buffer_size,
    sizeGauge: stateMetrics.usageBufferSize,
    droppedCounter: stateMetrics.usageDropped,
    onWritten: (batch) => budgets.written(batch),
  });
  const budgets = createBudgetTracker({
    spentSince: (keyId, since) => usage().spentSince(keyId, since),
    pendingCost: (keyId) => usageBuffer.pendingCost(keyId),
    logger,
  });
  const policy = createRequestPolicy({
    // Resolved per call: the limiter becomes the Redis one once start() has connected.
    limiter: {
      reserve: (specs, id) => limiter.reserve(specs, id),
      adjust: (spec, id) => limiter.adjust(spec, id),
      close: async () => {},
    },
    budgets,
    records,
    recordUsage: config.usage.enabled ? (record) => usageBuffer.add(record) : undefined,
    onStoreError: config.rate_limit.on_store_error,
    logger,
    rateLimited: stateMetrics.rateLimited,
    budgetExceeded: stateMetrics.budgetExceeded,
    storeErrors: stateMetrics.storeErrors,
  });

  let responseCache: ResponseCache = createMemoryResponseCache(config.cache.max_entries);
  const chatCache = createChatCache({
    config,
    store: () => responseCache,
    admitHit: (request) => policy.cacheHit(request),
    requests: stateMetrics.cacheRequests,
    logger,
  });

  async function invalidate(id: string) {
    keyCache.invalidate(id);
    if (redis) {
      await redis.client.publish(`${prefix}${KEY_CHANNEL}`, id).catch((error: unknown) => {
        logger.warn(
          { err: (error as Error).message },
          'key change not broadcast; replicas see it within 10s',
        );
      });
    }
  }

  const readinessChecks: ReadinessCheck[] = [
    {
      name: 'database',
      check: async (signal) => {
        if (!database) throw new Error('not connected');
        await database.ping(signal);
      },
    },
  ];
  // RAG (tokenizers, text splitters, HTML parsing) is loaded only when enabled: it would add
  // hundreds of milliseconds to every start.
  const ragModule = config.rag.enabled ? await import('../rag/create-rag.js') : undefined;
  const rag = ragModule?.createRag(config, { logger, metrics: options.metrics });
  if (rag) readinessChecks.push(rag.readinessCheck);
  if (config.redis.url) {
    readinessChecks.push({
      name: 'redis',
      check: async () => {
        if (!redis) throw new Error('not connected');
        await redis.ping();
      },
    });
  }

  return {
    authenticator: createVirtualKeyAuthenticator({
      masterKey: config.auth.master_key,
      keys: keyCache,
      records,
    }),
    policy: {
      admit: (request) => policy.admit(request),
      cache: chatCache,
      conversations: createChatConversations(conversations),
    },
    readinessChecks,
    plugins: [
      (app) => {
        registerAdminKeys(app, {
          masterKey: config.auth.master_key,
          keys,
          invalidate,
          spent: (record) => budgets.spent(record),
        });
        registerAdminUsage(app, { usage, flush: () => usageBuffer.flush() });
        registerConversations(app, { conversations });
      },
      ...(rag ? [rag.plugin] : []),
    ],
    async start() {
      // The database layer loads here, after the listener is open: a cold start answers sooner.
      const [{ databaseSettings, openDatabase }, { migrate }, { createUsageStore }] = await Promise.all([
        import('./open-database.js'),
        import('./migrate.js'),
        import('../usage/usage-store.js'),
      ]);
      // Idempotent: a failed start (database not up yet) is retried by serve.
      if (!database) {
        database = await openDatabase(databaseSettings(config.database), logger);
        if (database.threadHeap) registerThreadHeapGauges(options.metrics.registry, database.threadHeap);
      }
      await migrate(database.db, logger);
      keyStore = createKeyStore(database.db);
      usageStore = createUsageStore(database.db);
      conversationStore = createConversationStore(database.db);
      await rag?.start(database.db, { worker: ragModule!.runsInProcessWorker(config) });
      if (config.redis.url && !redis) {
        const { openRedis } = await import('./open-redis.js');
        redis = await openRedis(config.redis.url, logger);
        const channel = `${prefix}${KEY_CHANNEL}`;
        redis.subscriber.on('message', (from: string, id: string) => {
          if (from === channel) keyCache.invalidate(id);
        });
        await redis.subscriber.subscribe(channel);
        limiter = createRedisLimiter(redis.client, `${prefix}rl:`);
        const client = redis.client;
        responseCache = createRedisResponseCache(() => client, `${prefix}cache:`);
      }
      logger.info(
        { database: database.kind, redis: redis ? 'connected' : 'not configured' },
        'state services started',
      );
    },
    async close() {
      await rag?.close({ timeoutMs: config.shutdown.timeout });
      await usageBuffer.close();
      await redis?.close();
      await database?.close();
    },
  };
}

function raise(error: Error): never {
  throw error;
}
