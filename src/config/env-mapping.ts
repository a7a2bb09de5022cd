/**
 * Environment variables that override single settings. Each may also be given as NAME_FILE
 * (a path whose trimmed content is the value), the Docker/Kubernetes secrets convention.
 */
export const ENV_SETTINGS: ReadonlyArray<{ env: string; path: string; type: 'string' | 'int' | 'bool' }> = [
  { env: 'HOST', path: 'server.host', type: 'string' },
  { env: 'PORT', path: 'server.port', type: 'int' },
  { env: 'GANTRY_WORKERS', path: 'server.workers', type: 'int' },
  { env: 'GANTRY_BACKGROUND_THREADS_NICE', path: 'server.background_threads_nice', type: 'int' },
  { env: 'BODY_LIMIT', path: 'server.body_limit', type: 'int' },
  { env: 'KEEP_ALIVE_TIMEOUT', path: 'server.keep_alive_timeout', type: 'string' },
  { env: 'LISTEN_BACKLOG', path: 'server.listen_backlog', type: 'int' },
  { env: 'APP_MODE', path: 'app.mode', type: 'string' },
  { env: 'MODEL_NAME', path: 'app.default_model', type: 'string' },
  { env: 'LOG_LEVEL', path: 'logging.level', type: 'string' },
  { env: 'ACCESS_LOG', path: 'logging.access_log', type: 'bool' },
  { env: 'METRICS_ENABLED', path: 'metrics.enabled', type: 'bool' },
  { env: 'MAX_INFLIGHT', path: 'limits.max_inflight', type: 'int' },
  { env: 'MAX_QUEUE', path: 'limits.max_queue', type: 'int' },
  { env: 'SHUTDOWN_DELAY', path: 'shutdown.delay', type: 'string' },
  { env: 'SHUTDOWN_TIMEOUT', path: 'shutdown.timeout', type: 'string' },
  { env: 'GANTRY_MASTER_KEY', path: 'auth.master_key', type: 'string' },
  { env: 'DATABASE_URL', path: 'database.url', type: 'string' },
  { env: 'DATA_DIR', path: 'database.data_dir', type: 'string' },
  { env: 'DATABASE_SHARED_BUFFERS', path: 'database.shared_buffers', type: 'string' },
  { env: 'DATABASE_WASM_TIER_UP', path: 'database.wasm_tier_up', type: 'bool' },
  { env: 'REDIS_URL', path: 'redis.url', type: 'string' },
  { env: 'RATE_LIMIT_ON_STORE_ERROR', path: 'rate_limit.on_store_error', type: 'string' },
  { env: 'USAGE_ENABLED', path: 'usage.enabled', type: 'bool' },
  { env: 'RAG_ENABLED', path: 'rag.enabled', type: 'bool' },
  { env: 'RAG_EMBEDDING_MODEL', path: 'rag.embedding_model', type: 'string' },
  { env: 'RAG_WORKER_CONCURRENCY', path: 'rag.worker.concurrency', type: 'int' },
];

/**
 * Provider shortcuts: when the key (or base URL) variable is set, each model in the list variable
 * becomes an alias routed to that provider, unless the config file already defines the alias.
 */
export const PROVIDER_SHORTCUTS = [
  {
    provider: 'openai',
    keyEnv: 'OPENAI_API_KEY',
    baseUrlEnv: 'OPENAI_BASE_URL',
    modelsEnv: 'OPENAI_MODELS',
    defaultModels: 'gpt-4o-mini,gpt-4o,text-embedding-3-small',
  },
  {
    provider: 'anthropic',
    keyEnv: 'ANTHROPIC_API_KEY',
    baseUrlEnv: 'ANTHROPIC_BASE_URL',
    modelsEnv: 'ANTHROPIC_MODELS',
    defaultModels: 'claude-sonnet-4-5,claude-haiku-4-5',
  },
  {
    provider: 'ollama',
    baseUrlEnv: 'OLLAMA_BASE_URL',
    modelsEnv: 'OLLAMA_MODELS',
    defaultModels: 'llama3.2',
  },
  {
    provider: 'vllm',
    baseUrlEnv: 'VLLM_BASE_URL',
    keyEnv: 'VLLM_API_KEY',
    modelsEnv: 'VLLM_MODELS',
    defaultModels: '',
  },
] as const;
