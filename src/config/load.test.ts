import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load.js';

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gantry-config-')), name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('serves the mock on embedded defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 8000 });
    expect(config.app).toMatchObject({ mode: 'dev', default_model: 'mock' });
    expect(config.models.map((model) => model.alias)).toEqual(['mock']);
    expect(config.models[0]!.deployments[0]!.provider).toBe('mock');
    expect(config.shutdown).toEqual({ delay: 0, timeout: 30_000 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('serves MODEL_NAME with the mock when no provider is configured', () => {
    const config = loadConfig({ env: { MODEL_NAME: 'gpt-4o-mini' } });
    expect(config.app.default_model).toBe('gpt-4o-mini');
    expect(config.models.map((model) => model.alias).sort()).toEqual(['gpt-4o-mini', 'mock']);
  });

  it('layers defaults < YAML file < environment', () => {
    const file = tempFile(
      'gantry.yaml',
      'server: { port: 9000, host: 127.0.0.1 }\nlogging: { level: debug }\nshutdown: { delay: 2s, timeout: 1m }\n',
    );
    const config = loadConfig({ env: { GANTRY_CONFIG: file, PORT: '9100' } });
    expect(config.server.port).toBe(9100);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.logging.level).toBe('debug');
    expect(config.shutdown).toEqual({ delay: 2000, timeout: 60_000 });
    expect(config.source.file).toBe(file);
  });

  it('lowers V8 background threads by 10 nice levels unless told otherwise, within 0–19', () => {
    expect(loadConfig({ env: {} }).server.background_threads_nice).toBe(10);
    expect(loadConfig({ env: { GANTRY_BACKGROUND_THREADS_NICE: '0' } }).server.background_threads_nice).toBe(
      0,
    );
    const problems = problemsOf(() => loadConfig({ env: { GANTRY_BACKGROUND_THREADS_NICE: '20' } }));
    expect(problems.join('\n')).toMatch(/server\.background_threads_nice/);
  });

  it('reads secrets from NAME_FILE and from env:/file: references', () => {
    const masterKeyFile = tempFile('master', 'sk-master-from-file-0123456789\n');
    const apiKeyFile = tempFile('openai', 'sk-upstream-from-file\n');
    const file = tempFile(
      'gantry.yaml',
      `models:
  - alias: a
    deployments:
      - { provider: openai, model: gpt-4o, api_key: "file:${apiKeyFile}" }
      - { provider: openai, model: gpt-4o, api_key: "env:SECOND_KEY" }
`,
    );
    const config = loadConfig({
      env: {
        GANTRY_CONFIG: file,
        GANTRY_MASTER_KEY_FILE: masterKeyFile,
        SECOND_KEY: 'sk-second',
        MODEL_NAME: 'a',
      },
    });
    expect(config.auth.master_key).toBe('sk-master-from-file-0123456789');
    expect(config.models[0]!.deployments.map((deployment) => deployment.apiKey)).toEqual([
      'sk-upstream-from-file',
      'sk-second',
    ]);
  });

  it('registers provider shortcuts from the environment', () => {
    const config = loadConfig({
      env: {
        OPENAI_API_KEY: 'sk-x',
        OPENAI_MODELS: 'gpt-4o-mini',
        OLLAMA_BASE_URL: 'http://127.0.0.1:11434',
        MODEL_NAME: 'gpt-4o-mini',
      },
    });
    expect(config.models.map((model) => [model.alias, model.deployments[0]!.provider])).toEqual([
      ['gpt-4o-mini', 'openai'],
      ['llama3.2', 'ollama'],
    ]);
    expect(config.models[1]!.deployments[0]!.baseUrl).toBe('http://127.0.0.1:11434/v1');
  });

  it('sizes the embedded database page cache at 16MB unless told otherwise, within 128kB–1GB', () => {
    expect(loadConfig({ env: {} }).database.shared_buffers).toBe('16MB');
    expect(loadConfig({ env: { DATABASE_SHARED_BUFFERS: '64MB' } }).database.shared_buffers).toBe('64MB');
    for (const value of ['16', '16mb', '64kB', '2GB']) {
      const problems = problemsOf(() => loadConfig({ env: { DATABASE_SHARED_BUFFERS: value } }));
      expect(problems.join('\n')).toMatch(/database\.shared_buffers: must be a size from 128kB to 1GB/);
    }
  });

  it('reports every problem, each naming its setting and the expected form', () => {
    const file = tempFile(
      'gantry.yaml',
      `server: { port: 99999 }
shutdown: { timeout: soon }
models:
  - alias: x
    strategy: random
    deployments:
      - { provider: nope, model: m }
      - { provider: vllm, model: m }
`,
    );
    const problems = problemsOf(() =>
      loadConfig({ env: { GANTRY_CONFIG: file, APP_MODE: 'staging', PORT: 'eighty' } }),
    );
    const text = problems.join('\n');
    expect(text).toMatch(/PORT: "eighty" is not an integer/);
    expect(text).toMatch(/app\.mode: .*"dev"\|"prod"/);
    expect(text).toMatch(/shutdown\.timeout: invalid duration "soon"; expected e\.g\. "250ms"/);
    expect(text).toMatch(/models\.0\.strategy/);
    expect(text).toMatch(/models\.0\.deployments\.0\.provider/);
  });

  it('refuses prod mode without a master key, unknown default models and unreadable files', () => {
    expect(problemsOf(() => loadConfig({ env: { APP_MODE: 'prod' } })).join('\n')).toMatch(
      /auth\.master_key \(GANTRY_MASTER_KEY or GANTRY_MASTER_KEY_FILE\): required when app\.mode is prod/,
    );
    const file = tempFile(
      'gantry.yaml',
      'models: [{ alias: a, deployments: [{ provider: mock, model: m }] }]\n',
    );
    expect(
      problemsOf(() => loadConfig({ env: { GANTRY_CONFIG: file, MODEL_NAME: 'b' } })).join('\n'),
    ).toMatch(/app\.default_model \(MODEL_NAME\): alias "b" is not configured; configured aliases: a/);
    expect(problemsOf(() => loadConfig({ env: { GANTRY_CONFIG: '/nonexistent/gantry.yaml' } }))[0]).toMatch(
      /GANTRY_CONFIG: cannot read \/nonexistent\/gantry\.yaml \(ENOENT\)/,
    );
    expect(problemsOf(() => loadConfig({ env: { GANTRY_MASTER_KEY_FILE: '/nonexistent/key' } }))[0]).toMatch(
      /GANTRY_MASTER_KEY_FILE: cannot read/,
    );
    const broken = tempFile('broken.yaml', 'server: [unclosed\n');
    expect(problemsOf(() => loadConfig({ env: { GANTRY_CONFIG: broken } }))[0]).toMatch(/is not valid YAML/);
    const typo = tempFile('typo.yaml', 'sever: { port: 1 }\n');
    expect(problemsOf(() => loadConfig({ env: { GANTRY_CONFIG: typo } })).join('\n')).toMatch(/sever/);
  });
});
