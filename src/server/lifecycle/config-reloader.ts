import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/config-error.js';
import { type Config, type LoadOptions, loadConfig } from '../../config/load.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';

/**
 * Settings read once at startup: the listener, the worker count, the stores and the master key
 * (the authenticator is built from it). A reload reports changes to them and keeps the old values.
 */
export const RESTART_SETTINGS = [
  'server.host',
  'server.port',
  'server.workers',
  'server.body_limit',
  'server.keep_alive_timeout',
  'server.listen_backlog',
  'server.background_threads_nice',
  'database.url',
  'database.data_dir',
  'redis.url',
  'auth.master_key',
  'metrics.enabled',
] as const;

function valueAt(config: Config, path: string): unknown {
  let node: unknown = config;
  for (const key of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/** Settings whose new value differs from the running one but needs a restart to apply. */
export function restartRequired(running: Config, next: Config): string[] {
  return RESTART_SETTINGS.filter((path) => valueAt(running, path) !== valueAt(next, path));
}

/** `next`, except that restart-only settings keep their running values, so the runtime tells the truth. */
export function withRestartSettingsOf(running: Config, next: Config): Config {
  return Object.freeze({
    ...next,
    server: running.server,
    database: running.database,
    redis: running.redis,
    auth: running.auth,
    metrics: running.metrics,
  });
}

export interface ConfigReloader {
  /** Loads the configuration again; returns whether the new one was applied. */
  reload(trigger: 'file' | 'signal', fileText?: string): boolean;
}

/**
 * Reloads the configuration with the same inputs as at startup (file, environment, command line).
 * A valid result is applied via `apply` (the gateway swaps it in atomically); an invalid one is
 * logged with every problem, counted as result="error", and the running configuration stays.
 */
export function createConfigReloader(options: {
  loadOptions: LoadOptions;
  current: () => Config;
  apply: (next: Config) => void;
  logger: Logger;
  metrics: Metrics;
}): ConfigReloader {
  const { logger, metrics } = options;
  return {
    reload(trigger, fileText) {
      const running = options.current();
      let next: Config;
      const file = running.source.file;
      const text = fileText ?? (file === undefined ? undefined : readOrUndefined(file));
      try {
        // A truncate-then-write leaves an empty file for a moment; an empty file would otherwise be
        // a valid "all defaults" config and silently drop every configured model.
        if (text !== undefined && text.trim() === '') {
          throw new ConfigError([`GANTRY_CONFIG: ${file} is empty`]);
        }
        next = loadConfig({ ...options.loadOptions, ...(text === undefined ? {} : { fileText: text }) });
      } catch (error) {
        metrics.configReloads.inc({ result: 'error' });
        const problems = error instanceof ConfigError ? error.problems : [(error as Error).message];
        logger.error(
          { trigger, problems },
          'configuration reload rejected; the previous configuration stays',
        );
        return false;
      }
      const pending = restartRequired(running, next);
      if (pending.length > 0) {
        logger.warn({ settings: pending }, 'configuration changes that require a restart were not applied');
      }
      options.apply(withRestartSettingsOf(running, next));
      if (next.logging.level !== running.logging.level) logger.level = next.logging.level;
      metrics.configReloads.inc({ result: 'success' });
      logger.info({ trigger, models: next.models.length }, 'configuration reloaded');
      return true;
    },
  };
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // loadConfig reads it again and reports why it cannot
  }
}
