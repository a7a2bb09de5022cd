import { Command, InvalidArgumentError } from 'commander';
import { EX_CONFIG } from '../config/config-error.js';
import { http } from '../node-http.js';
import { exitAfterFlush, onTerminationSignals } from '../server/lifecycle/process-signals.js';
import type { DatabaseHandle } from '../storage/open-database.js';
import { loadConfigOrExit } from './load-config-or-exit.js';

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a number');
  return Number(value);
}

/**
 * `gantry worker`: consumes the RAG ingestion queue until SIGTERM. Several workers (and replicas)
 * share one PostgreSQL queue safely; on the embedded database only one process may open it.
 * Serves /health, /startup, /ready and /metrics on --port for probes and scraping.
 */
export function workerCommand() {
  return new Command('worker')
    .description('consume the RAG ingestion queue (chunk, embed, store) until SIGTERM')
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .option('--concurrency <n>', 'documents ingested at once (default: rag.worker.concurrency)', count)
    .option(
      '-p, --port <port>',
      'port for /health, /ready and /metrics; 0 = none (default: $PORT or 8000)',
      count,
    )
    .option('--host <host>', 'listen address for the probe port (default: $HOST or 0.0.0.0)')
    .action(async (options: { config?: string; concurrency?: number; port?: number; host?: string }) => {
      const config = loadConfigOrExit({
        env: process.env,
        file: options.config,
        overrides: {
          // A worker exists to ingest: RAG is on whatever the gateway's setting says.
          'rag.enabled': true,
          'rag.worker.concurrency': options.concurrency,
          'server.port': options.port,
          'server.host': options.host,
        },
      });
      // Loaded on use, so that other commands do not load RAG and the database layer.
      const [
        { createRag },
        { migrate },
        { databaseSettings, openDatabase },
        { createLogger },
        { createMetrics },
      ] = await Promise.all([
        import('../rag/create-rag.js'),
        import('../storage/migrate.js'),
        import('../storage/open-database.js'),
        import('../telemetry/logger.js'),
        import('../telemetry/metrics.js'),
      ]);
      const logger = createLogger(config).child({ component: 'rag-worker' });
      const metrics = createMetrics();
      let handle: DatabaseHandle | undefined;
      let ready = false;
      const server = http.createServer((request, response) => {
        const path = request.url?.split('?')[0];
        if (path === '/health') return void response.writeHead(200).end('ok');
        if (path === '/startup')
          return void response.writeHead(ready ? 200 : 503).end(ready ? 'started' : 'starting');
        if (path === '/ready') {
          if (!ready || !handle) return void response.writeHead(503).end('starting');
          handle.ping(AbortSignal.timeout(2_000)).then(
            () => response.writeHead(200).end('ready'),
            () => response.writeHead(503).end('database unreachable'),
          );
          return;
        }
        if (path === '/metrics') {
          metrics.registry.metrics().then(
            (body) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
            (error: unknown) => response.writeHead(500).end(String(error)),
          );
          return;
        }
        response.writeHead(404).end();
      });
      // Listening before the database opens: /health answers while the embedded database starts.
      if (config.server.port !== 0) server.listen(config.server.port, config.server.host);
      try {
        handle = await openDatabase(databaseSettings(config.database), logger);
        await migrate(handle.db, logger);
      } catch (error) {
        process.stderr.write(`gantry: ${(error as Error).message}\n`);
        exitAfterFlush(logger, 1);
        return;
      }
      const rag = createRag(config, { logger, metrics });
      const database = handle;
      let stopping = false;
      onTerminationSignals(logger, (signal) => {
        stopping = true;
        logger.info({ signal }, 'worker stopping: finishing the jobs in hand');
        void (async () => {
          await rag.close({ timeoutMs: config.shutdown.timeout });
          server.close();
          await handle?.close();
          logger.info('worker stopped');
          exitAfterFlush(logger, 0);
        })();
      });
      try {
        await rag.start(database.db, { worker: true });
        ready = true;
      } catch (error) {
        if (stopping) return;
        process.stderr.write(`gantry: ${(error as Error).message}\n`);
        logger.fatal({ err: error }, 'the worker could not start');
        await database.close().catch(() => {});
        exitAfterFlush(logger, EX_CONFIG);
      }
    });
}
