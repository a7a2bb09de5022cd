import { z } from 'zod';
import { duration } from './duration.js';

/** Providers Gantry can route to. The openai-compatible presets share one adapter. */
export const PROVIDER_KINDS = [
  'openai',
  'azure',
  'vllm',
  'ollama',
  'llamacpp',
  'tgi',
  'lmstudio',
  'groq',
  'together',
  'openrouter',
  'mistral',
  'deepseek',
  'openai-compatible',
  'anthropic',
  'gemini',
  'mock',
] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/**
 * PGlite sizes Postgres's page cache at 128 MB, the largest part of an idle Gantry's memory; usage
 * inserts measured no slower at 16 MB, up to 500,000 rows (docs/benchmarks.md, round eight).
 */
export const DEFAULT_SHARED_BUFFERS = '16MB';

const SIZE_UNITS_KB: Readonly<Record<string, number>> = { kB: 1, MB: 1024, GB: 1024 * 1024 };

/** A Postgres memory size ("128kB", "16MB", "1GB") in kB, or undefined when it is not one. */
function sizeInKilobytes(value: string): number | undefined {
  const match = /^(\d+)(kB|MB|GB)$/.exec(value);
  return match ? Number(match[1]) * SIZE_UNITS_KB[match[2]!]! : undefined;
}

const timeoutsSchema = z
  .object({
    /** TCP/TLS connect. */
    connect: duration.default(5_000),
    /** From sending the request to the first response byte (headers) — and for streams, the first chunk. */
    first_byte: duration.default(60_000),
    /** Longest silence between two stream chunks. */
    idle: duration.default(30_000),
    /** Whole request, all attempts of one deployment included. */
    total: duration.default(600_000),
  })
  .strict();
export type TimeoutsConfig = z.infer<typeof timeoutsSchema>;

const mockSchema = z
  .object({
    /** Delay before a non-stream answer, or before the first stream chunk. */
    ttft: duration.default(0),
    /** Delay between stream chunks. */
    chunk_delay: duration.default(0),
    /** Number of words in the answer (capped by max_tokens). */
    words: z.number().int().min(1).max(100_000).default(12),
    /** Probability (0..1) that a request fails with a 500 before answering. */
    error_rate: z.number().min(0).max(1).default(0),
    /** Embedding dimensions. */
    dimensions: z.number().int().min(2).max(4096).default(256),
  })
  .strict();
export type MockConfig = z.infer<typeof mockSchema>;

const queueSchema = z
  .object({
    max_length: z.number().int().min(0).default(100),
    max_wait: duration.default(10_000),
  })
  .strict();

const deploymentSchema = z
  .object({
    id: z.string().min(1).optional(),
    provider: z.enum(PROVIDER_KINDS),
    /** Model name as the upstream knows it. */
    model: z.string().min(1),
    base_url: z.url().optional(),
    /** Secret: a literal, "env:NAME" or "file:/path" (resolved at load time). */
    api_key: z.string().optional(),
    /** Azure OpenAI api-version. */
    api_version: z.string().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    weight: z.number().positive().default(1),
    timeouts: timeoutsSchema.partial().optional(),
    max_concurrency: z.number().int().positive().optional(),
    queue: queueSchema.optional(),
    mock: mockSchema.optional(),
    /** Price per million tokens (USD), for usage accounting. */
    price: z
      .object({ input: z.number().min(0).default(0), output: z.number().min(0).default(0) })
      .strict()
      .optional(),
  })
  .strict();
export type DeploymentInput = z.infer<typeof deploymentSchema>;

const modelSchema = z
  .object({
    alias: z.string().min(1),
    strategy: z.enum(['fallback', 'weighted', 'least-inflight']).default('fallback'),
    deployments: z.array(deploymentSchema).min(1),
    /** Optional system prompt prepended to every request for this alias. */
    system_prompt: z.string().optional(),
    /** Embedding-only or chat-only restrictions are not enforced; this is informational for /v1/models. */
    owned_by: z.string().default('gantry'),
    /** Retrieval-augmented chat: every request to this alias is answered with chunks from a collection. */
    rag: z
      .object({
        /** Collection id or name (of the calling key). */
        collection: z.string().min(1),
        top_k: z.number().int().min(1).max(50).default(5),
        /** Injected as a system message; {context} is replaced by the numbered sources. */
        template: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const retrySchema = z
  .object({
    /** Attempts per deployment, the first one included. */
    max_attempts: z.number().int().min(1).max(10).default(2),
    base_delay: duration.default(100),
    max_delay: duration.default(2_000),
    /** Longest upstream Retry-After waited for; a longer one falls back, or is relayed to the client. */
    max_retry_after: duration.default(10_000),
    budget: z
      .object({
        /** Retries allowed as a fraction of requests over the window. */
        ratio: z.number().min(0).max(1).default(0.1),
        /** Retries always allowed per second, so a quiet gateway can still retry. */
        min_per_second: z.number().min(0).default(1),
        window: duration.default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const circuitSchema = z
  .object({
    /** Consecutive failures that open the circuit. */
    consecutive_failures: z.number().int().min(1).default(5),
    /** Error rate over the window that opens the circuit (with at least min_requests). */
    error_rate: z.number().min(0).max(1).default(0.5),
    min_requests: z.number().int().min(1).default(20),
    window: duration.default(30_000),
    /** Time the circuit stays open before a half-open probe. */
    cooldown: duration.default(10_000),
  })
  .strict();

export const configSchema = z
  .object({
    app: z
      .object({
        name: z.string().default('gantry'),
        mode: z.enum(['dev', 'prod']).default('dev'),
        /** Alias used when a request names no model (e.g. POST /chat). */
        default_model: z.string().default('mock'),
      })
      .strict()
      .prefault({}),
    server: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65_535).default(8000),
        body_limit: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
        keep_alive_timeout: duration.default(72_000),
        /**
         * Connections the kernel completes and holds for accept() while the event loop is busy, as
         * in a burst of new streams; past it, new connections are refused or reset. Linux caps it at
         * net.core.somaxconn (4096 by default). Node's own default is 511.
         */
        listen_backlog: z.number().int().min(1).max(65_535).default(4096),
        /** Worker processes; 0 means one per available CPU (cgroup quota respected). */
        workers: z.number().int().min(0).max(256).default(1),
        /**
         * Nice levels added to V8's background threads (GC helpers, compilers) so that on a busy core
         * the event loop runs first; 0 leaves them at the process's priority.
         */
        background_threads_nice: z.number().int().min(0).max(19).default(10),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        access_log: z.boolean().default(true),
        /** Log probe requests (/health, /ready, /startup, /metrics) in the access log. */
        log_probes: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .prefault({}),
    models: z.array(modelSchema).default([]),
    routing: z
      .object({
        timeouts: timeoutsSchema.prefault({}),
        retry: retrySchema.prefault({}),
        circuit_breaker: circuitSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        /** Requests processed at once across the process; 0 = unlimited. */
        max_inflight: z.number().int().min(0).default(0),
        /** Requests waiting for a global slot before 503. */
        max_queue: z.number().int().min(0).default(0),
        /** Longest wait for a global slot before 503. */
        max_queue_wait: duration.default(10_000),
        /** Event-loop lag above which new requests are shed with 503 (0 = off). */
        shed_on_lag: duration.default(0),
        /** Event-loop lag above which /health fails. */
        liveness_lag: duration.default(5_000),
      })
      .strict()
      .prefault({}),
    shutdown: z
      .object({
        delay: duration.optional(),
        timeout: duration.default(30_000),
      })
      .strict()
      .prefault({}),
    readiness: z
      .object({ require_upstream: z.boolean().default(false) })
      .strict()
      .prefault({}),
    auth: z
      .object({ master_key: z.string().min(16).optional() })
      .strict()
      .prefault({}),
    database: z
      .object({
        url: z.string().optional(),
        data_dir: z.string().default('./data'),
        /** The embedded database's page cache (Postgres shared_buffers); not used with `url`. */
        shared_buffers: z
          .string()
          .refine((value) => {
            const kilobytes = sizeInKilobytes(value);
            return kilobytes !== undefined && kilobytes >= 128 && kilobytes <= 1024 * 1024;
          }, 'must be a size from 128kB to 1GB, such as 16MB')
          .default(DEFAULT_SHARED_BUFFERS),
        /**
         * V8's optimizing tier for the embedded database's WebAssembly. Off: about 600 MB less at
         * start on Node 24, vector search about 1.7x slower (src/storage/wasm-tier-up-flags.ts).
         */
        wasm_tier_up: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    redis: z.object({ url: z.string().optional() }).strict().prefault({}),
    rate_limit: z
      .object({
        /** What to do when the limiter store (Redis) cannot be reached: admit the request or refuse it. */
        on_store_error: z.enum(['allow', 'deny']).default('allow'),
      })
      .strict()
      .prefault({}),
    usage: z
      .object({
        enabled: z.boolean().default(true),
        /** How often buffered usage records are written. */
        flush_interval: duration.default(1_000),
        batch_size: z.number().int().min(1).max(10_000).default(500),
        /** Records kept while the database is unreachable; beyond this they are dropped and counted. */
        buffer_size: z.number().int().min(1).default(100_000),
        /** `gantry maintenance` rolls records older than this up into daily totals and deletes them. */
        retention: duration.default(90 * 86_400_000),
      })
      .strict()
      .prefault({}),
    rag: z
      .object({
        /** Collections, ingestion and retrieval (needs pgvector on PostgreSQL; built into PGlite). */
        enabled: z.boolean().default(false),
        /** Alias that embeds chunks and queries. */
        embedding_model: z.string().default('mock'),
        /** Vector size; when unset, taken from the store or from one probe embedding. */
        dimensions: z.number().int().min(2).max(2000).optional(),
        /** Chunk size and overlap, in tokens (cl100k_base). */
        chunk_size: z.number().int().min(16).max(8192).default(256),
        chunk_overlap: z.number().int().min(0).max(4096).default(32),
        /** Texts per embedding request. */
        embedding_batch: z.number().int().min(1).max(2048).default(64),
        worker: z
          .object({
            /** Run the ingestion worker inside `serve`; "auto": only on the embedded database. */
            in_process: z.union([z.boolean(), z.literal('auto')]).default('auto'),
            concurrency: z.number().int().min(1).max(64).default(2),
            poll_interval: duration.default(500),
            /** A claimed job returns to the queue when its worker stops renewing it for this long. */
            lease: duration.default(60_000),
            max_attempts: z.number().int().min(1).max(100).default(5),
            backoff_base: duration.default(1_000),
            backoff_max: duration.default(300_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    cache: z
      .object({
        /** Aliases whose chat completions are cached without the client asking (x-gantry-cache: use). */
        models: z.array(z.string()).default([]),
        ttl: duration.default(300_000),
        /** Entries kept by the in-memory cache (used when Redis is not configured). */
        max_entries: z.number().int().min(1).default(1_000),
        /** Share entries between API keys (otherwise each key has its own cache). */
        shared: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
