import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error.js';
import { ENV_SETTINGS, PROVIDER_SHORTCUTS } from './env-mapping.js';
import { configSchema, type ParsedConfig, type ProviderKind, type TimeoutsConfig } from './schema.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface Deployment {
  readonly id: string;
  readonly alias: string;
  readonly provider: ProviderKind;
  readonly model: string;
  readonly baseUrl: string | undefined;
  readonly apiKey: string | undefined;
  readonly apiVersion: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly weight: number;
  readonly timeouts: TimeoutsConfig;
  readonly maxConcurrency: number | undefined;
  readonly queue: { readonly maxLength: number; readonly maxWaitMs: number } | undefined;
  readonly mock: ParsedConfig['models'][number]['deployments'][number]['mock'];
  readonly price: { readonly input: number; readonly output: number } | undefined;
}

export interface ModelAlias {
  readonly alias: string;
  readonly strategy: 'fallback' | 'weighted' | 'least-inflight';
  readonly deployments: readonly Deployment[];
  readonly systemPrompt: string | undefined;
  readonly ownedBy: string;
  /** Retrieval-augmented chat settings (src/rag). */
  readonly rag?: ParsedConfig['models'][number]['rag'];
}

/** The effective configuration: parsed once, secrets resolved, frozen, passed down explicitly. */
export interface Config extends Omit<ParsedConfig, 'models'> {
  readonly models: readonly ModelAlias[];
  readonly shutdown: { readonly delay: number; readonly timeout: number };
  /** Where the YAML file came from, if any (for hot reload and `config check`). */
  readonly source: { readonly file: string | undefined };
}

export interface LoadOptions {
  readonly env: Environment;
  /** Path to the YAML file; defaults to env.GANTRY_CONFIG. */
  readonly file?: string | undefined;
  /** Settings from the command line, applied last. */
  readonly overrides?: Record<string, unknown>;
  /** Text of the YAML file, when the caller has already read it (hot reload). */
  readonly fileText?: string;
}

function readEnvValue(env: Environment, name: string, problems: string[]): string | undefined {
  const direct = env[name];
  const filePath = env[`${name}_FILE`];
  if (filePath !== undefined && filePath !== '') {
    try {
      return readFileSync(filePath, 'utf8').trim();
    } catch (error) {
      problems.push(
        `${name}_FILE: cannot read ${filePath} (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
      return undefined;
    }
  }
  return direct === '' ? undefined : direct;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function convert(value: string, type: 'string' | 'int' | 'bool', env: string, problems: string[]): unknown {
  if (type === 'int') {
    if (!/^-?\d+$/.test(value.trim())) {
      problems.push(`${env}: ${JSON.stringify(value)} is not an integer`);
      return undefined;
    }
    return Number(value);
  }
  if (type === 'bool') {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    problems.push(`${env}: ${JSON.stringify(value)} is not a boolean; expected true or false`);
    return undefined;
  }
  return value;
}

/** Resolves a secret reference: "env:NAME", "file:/path" or a literal. */
function resolveSecret(reference: string, setting: string, env: Environment, problems: string[]) {
  if (reference.startsWith('env:')) {
    const name = reference.slice(4);
    const value = readEnvValue(env, name, problems);
    if (value === undefined) problems.push(`${setting}: environment variable ${name} is not set`);
    return value;
  }
  if (reference.startsWith('file:')) {
    const path = reference.slice(5);
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (error) {
      problems.push(`${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? error})`);
      return undefined;
    }
  }
  return reference;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/** OLLAMA_BASE_URL is usually the server root (http://host:11434); its OpenAI API lives under /v1. */
function shortcutBaseUrl(provider: string, baseUrl: string): string {
  if (provider !== 'ollama' || /\/v1\/?$/.test(baseUrl)) return baseUrl;
  return `${baseUrl.replace(/\/+$/, '')}/v1`;
}

function shortcutModels(env: Environment, existing: Set<string>, problems: string[]) {
  const models: Record<string, unknown>[] = [];
  for (const shortcut of PROVIDER_SHORTCUTS) {
    const key = 'keyEnv' in shortcut ? readEnvValue(env, shortcut.keyEnv, problems) : undefined;
    const baseUrl = readEnvValue(env, shortcut.baseUrlEnv, problems);
    const enabled = shortcut.provider === 'openai' || shortcut.provider === 'anthropic' ? key : baseUrl;
    if (!enabled) continue;
    const names = (env[shortcut.modelsEnv] ?? shortcut.defaultModels)
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    if (names.length === 0)
      problems.push(`${shortcut.modelsEnv}: list the models served by ${shortcut.provider}`);
    for (const name of names) {
      if (existing.has(name)) continue;
      existing.add(name);
      models.push({
        alias: name,
        deployments: [
          {
            id: `${shortcut.provider}/${name}`,
            provider: shortcut.provider,
            model: name,
            ...(baseUrl ? { base_url: shortcutBaseUrl(shortcut.provider, baseUrl) } : {}),
            ...(key ? { api_key: key } : {}),
          },
        ],
      });
    }
  }
  return models;
}

function finish(
  parsed: ParsedConfig,
  env: Environment,
  file: string | undefined,
  problems: string[],
): Config {
  const seenAliases = new Set<string>();
  const seenIds = new Set<string>();
  const models: ModelAlias[] = parsed.models.map((model, modelIndex) => {
    if (seenAliases.has(model.alias))
      problems.push(`models.${modelIndex}.alias: duplicate alias ${model.alias}`);
    seenAliases.add(model.alias);
    const deployments = model.deployments.map((deployment, index): Deployment => {
      const setting = `models.${modelIndex}.deployments.${index}`;
      const id = deployment.id ?? `${model.alias}/${deployment.provider}/${index}`;
      if (seenIds.has(id)) problems.push(`${setting}.id: duplicate deployment id ${id}`);
      seenIds.add(id);
      const needsBaseUrl = ['azure', 'vllm', 'llamacpp', 'tgi', 'openai-compatible'].includes(
        deployment.provider,
      );
      if (needsBaseUrl && !deployment.base_url) {
        problems.push(`${setting}.base_url: required for provider ${deployment.provider}`);
      }
      if (deployment.provider === 'azure' && !deployment.api_version) {
        problems.push(`${setting}.api_version: required for provider azure (e.g. "2024-10-21")`);
      }
      return Object.freeze({
        id,
        alias: model.alias,
        provider: deployment.provider,
        model: deployment.model,
        baseUrl: deployment.base_url,
        apiKey: deployment.api_key
          ? resolveSecret(deployment.api_key, `${setting}.api_key`, env, problems)
          : undefined,
        apiVersion: deployment.api_version,
        headers: Object.freeze({ ...deployment.headers }),
        weight: deployment.weight,
        timeouts: Object.freeze({ ...parsed.routing.timeouts, ...deployment.timeouts }),
        maxConcurrency: deployment.max_concurrency,
        queue: deployment.queue
          ? { maxLength: deployment.queue.max_length, maxWaitMs: deployment.queue.max_wait }
          : undefined,
        mock: deployment.mock,
        price: deployment.price,
      });
    });
    return Object.freeze({
      alias: model.alias,
      strategy: model.strategy,
      deployments: Object.freeze(deployments),
      systemPrompt: model.system_prompt,
      ownedBy: model.owned_by,
      ...(model.rag ? { rag: Object.freeze({ ...model.rag }) } : {}),
    });
  });
  if (!seenAliases.has(parsed.app.default_model)) {
    problems.push(
      `app.default_model (MODEL_NAME): alias ${JSON.stringify(parsed.app.default_model)} is not configured; ` +
        `configured aliases: ${[...seenAliases].join(', ') || '(none)'}`,
    );
  }
  if (parsed.app.mode === 'prod' && !parsed.auth.master_key) {
    problems.push(
      'auth.master_key (GANTRY_MASTER_KEY or GANTRY_MASTER_KEY_FILE): required when app.mode is prod',
    );
  }
  const delay = parsed.shutdown.delay ?? (parsed.app.mode === 'prod' ? 5_000 : 0);
  return Object.freeze({
    ...parsed,
    models: Object.freeze(models),
    shutdown: Object.freeze({ delay, timeout: parsed.shutdown.timeout }),
    source: Object.freeze({ file }),
  });
}

/**
 * Builds the configuration: schema defaults < YAML file < environment < overrides.
 * Throws ConfigError listing every problem, each naming its setting.
 */
export function loadConfig(options: LoadOptions): Config {
  const { env } = options;
  const problems: string[] = [];
  const file = options.file ?? (env.GANTRY_CONFIG || undefined);
  let raw: Record<string, unknown> = {};
  if (file !== undefined) {
    let text = options.fileText;
    if (text === undefined) {
      try {
        text = readFileSync(resolve(file), 'utf8');
      } catch (error) {
        throw new ConfigError([
          `GANTRY_CONFIG: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`,
        ]);
      }
    }
    try {
      const document = parseYaml(text) ?? {};
      if (typeof document !== 'object' || Array.isArray(document)) {
        throw new Error('the top level must be a mapping');
      }
      raw = document as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError([`GANTRY_CONFIG: ${file} is not valid YAML: ${(error as Error).message}`]);
    }
  }
  for (const setting of ENV_SETTINGS) {
    const value = readEnvValue(env, setting.env, problems);
    if (value === undefined) continue;
    const converted = convert(value, setting.type, setting.env, problems);
    if (converted !== undefined) setPath(raw, setting.path, converted);
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, path, value);
  }
  const declared = Array.isArray(raw.models) ? (raw.models as Record<string, unknown>[]) : [];
  const aliases = new Set(declared.map((model) => String(model?.alias)));
  const models = [...declared, ...shortcutModels(env, aliases, problems)];
  if (models.length === 0) {
    // Embedded default: with no provider configured, serve the mock so `npm start` works with no keys.
    const defaultModel = (raw.app as Record<string, unknown> | undefined)?.default_model;
    const names = new Set(['mock', typeof defaultModel === 'string' ? defaultModel : 'mock']);
    for (const name of names) {
      models.push({ alias: name, deployments: [{ id: `mock/${name}`, provider: 'mock', model: name }] });
    }
  }
  raw.models = models;
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError([...problems, ...result.error.issues.map(formatIssue)]);
  const config = finish(result.data, env, file, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
