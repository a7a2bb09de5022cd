import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../helpers/gantry-process.js';
import { type CommandOptions, docker, runCommand, uniqueSuffix, waitFor } from './docker.js';

interface PrometheusTarget {
  labels: Record<string, string>;
  health: string;
  scrapeUrl: string;
}

interface PrometheusAnswer {
  status: string;
  data: { activeTargets?: PrometheusTarget[]; result?: Array<{ metric: Record<string, string> }> };
}

interface PsEntry {
  Service: string;
  State: string;
  Health: string;
  Publishers: Array<{ PublishedPort: number; TargetPort: number; URL: string }> | null;
}

/**
 * The production stack (compose.yaml + compose.prod.yaml) from a copy of the working tree, under a
 * project name of its own, with .env from .env.example and secrets from deploy/compose/init-secrets.sh.
 */
describe('docker compose: gantry, PostgreSQL and Redis', () => {
  const project = `gantry-ct-${uniqueSuffix()}`;
  const directory = mkdtempSync(join(tmpdir(), 'gantry-compose-'));
  const secrets = mkdtempSync(join(tmpdir(), 'gantry-secrets-'));
  const image = `gantry-compose-test:${uniqueSuffix()}`;
  const files = ['-f', 'compose.yaml', '-f', 'compose.prod.yaml'];
  let url: string;
  let masterKey: string;
  let environment: Record<string, string>;

  const compose = (args: readonly string[], options: CommandOptions = {}) =>
    docker(['compose', '--project-name', project, '--project-directory', directory, ...files, ...args], {
      cwd: directory,
      ...options,
      env: { ...environment, ...options.env },
    });
  /** `up`, with the services' last log lines in the error when it fails. */
  const up = async (options: { profile?: string; services?: string[] } = {}) => {
    const profile = options.profile ? ['--profile', options.profile] : [];
    try {
      const result = await compose([
        ...profile,
        'up',
        '--detach',
        '--wait',
        '--no-build',
        ...(options.services ?? []),
      ]);
      return `${result.stdout}\n${result.stderr}`;
    } catch (error) {
      const logs = await compose(['logs', '--no-color', '--tail', '40'], { allowFailure: true });
      throw new Error(`${(error as Error).message}\n--- compose logs ---\n${logs.stdout}${logs.stderr}`);
    }
  };
  const psql = async (query: string) =>
    (
      await compose(['exec', '-T', 'db', 'psql', '-U', 'gantry', '-d', 'gantry', '-Atc', query])
    ).stdout.trim();
  const services = async () =>
    (await compose(['ps', '--all', '--format', 'json'])).stdout
      .split('\n')
      .filter((line) => line.trim())
      .flatMap((line) => JSON.parse(line) as PsEntry | PsEntry[]);
  const chat = (key: string, content = 'hello') =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(15_000),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content }] }),
    });

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    environment = {
      GANTRY_SECRETS_DIR: secrets,
      GANTRY_PORT: String(port),
      GANTRY_IMAGE: image,
      // Settings a developer's .env or shell might hold must not leak into the test stack.
      APP_MODE: 'prod',
      MODEL_NAME: 'mock',
    };
    // A checkout of its own, with the .env an operator would start from (.env.example).
    cpSync(inject('buildContext'), directory, { recursive: true });
    copyFileSync(join(directory, '.env.example'), join(directory, '.env'));
    await runCommand('sh', [join(directory, 'deploy/compose/init-secrets.sh'), secrets]);
    masterKey = readFileSync(join(secrets, 'gantry_master_key'), 'utf8').trim();
  });

  afterAll(async () => {
    await compose(['--profile', 'monitoring', 'down', '--volumes', '--remove-orphans', '--timeout', '10'], {
      allowFailure: true,
    });
    await docker(['image', 'rm', '--force', image], { allowFailure: true });
    rmSync(secrets, { recursive: true, force: true });
    rmSync(directory, { recursive: true, force: true });
  });

  it('validates as Compose v2, for production and for development (override merged)', async () => {
    const production = parseYaml((await compose(['--profile', 'monitoring', 'config'])).stdout);
    expect(production.services.gantry).toMatchObject({
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
    });
    expect(production.services.gantry.tmpfs).toEqual([expect.stringMatching(/^\/tmp/)]);
    expect(production.services.gantry.deploy.resources.limits.memory).toBeDefined();
    const published = Object.entries(production.services as Record<string, { ports?: unknown[] }>)
      .filter(([, service]) => (service.ports ?? []).length > 0)
      .map(([name]) => name);
    expect(published).toEqual(['gantry']);

    const development = await docker(['compose', '--project-name', project, 'config'], {
      cwd: directory,
      env: environment,
    });
    const developmentConfig = parseYaml(development.stdout);
    expect(developmentConfig.services.gantry.build.target).toBe('dev');
    expect(developmentConfig.services.gantry.environment.LOG_LEVEL).toBe('debug');
    expect(developmentConfig.services.gantry.volumes).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'bind', target: '/app/src' })]),
    );
  });

  it('builds the gantry image from the Dockerfile (compose build)', async () => {
    await compose(['build', 'gantry']);
    const { stdout } = await docker(['image', 'inspect', '--format', '{{.Config.User}}', image]);
    expect(stdout.trim()).toBe('10001:10001');
  });

  it('up --wait brings db, redis and then gantry up healthy, in dependency order', async () => {
    const progress = await up();
    const entries = await services();
    expect(entries.map((entry) => [entry.Service, entry.State, entry.Health]).sort()).toEqual([
      ['db', 'running', 'healthy'],
      ['gantry', 'running', 'healthy'],
      ['redis', 'running', 'healthy'],
    ]);
    // Only the gateway is published; the database and Redis are reachable on the backend network only.
    for (const entry of entries) {
      const ports = (entry.Publishers ?? []).filter((publisher) => publisher.PublishedPort > 0);
      expect(ports.length, entry.Service).toBe(entry.Service === 'gantry' ? 1 : 0);
    }
    // Compose started gantry only once db and redis had reported healthy (its progress lines,
    // in order), and the containers' start times agree.
    const lines = progress.split('\n');
    const lineOf = (service: string, event: string) =>
      lines.findIndex((line) => new RegExp(`${project}-${service}-1\\s+${event}\\s*$`).test(line));
    const gantryStarting = lineOf('gantry', 'Starting');
    expect(gantryStarting, progress).toBeGreaterThan(0);
    const startedAt = async (service: string) => {
      const { stdout: id } = await compose(['ps', '--quiet', service]);
      const { stdout } = await docker(['inspect', '--format', '{{.State.StartedAt}}', id.trim()]);
      return Date.parse(stdout.trim());
    };
    const gantryStartedAt = await startedAt('gantry');
    for (const dependency of ['db', 'redis']) {
      const healthy = lineOf(dependency, 'Healthy');
      expect(healthy, `${dependency} Healthy in:\n${progress}`).toBeGreaterThan(0);
      expect(healthy, `${dependency} healthy before gantry starts`).toBeLessThan(gantryStarting);
      expect(await startedAt(dependency)).toBeLessThan(gantryStartedAt);
    }
  });

  it('hands secrets over as files: none shows in the container environment', async () => {
    const { stdout: id } = await compose(['ps', '--quiet', 'gantry']);
    const { stdout } = await docker(['inspect', '--format', '{{json .Config.Env}}', id.trim()]);
    const environmentVariables = JSON.parse(stdout) as string[];
    expect(environmentVariables).toContain('GANTRY_MASTER_KEY_FILE=/run/secrets/gantry_master_key');
    expect(environmentVariables).toContain('DATABASE_URL_FILE=/run/secrets/database_url');
    const password = readFileSync(join(secrets, 'postgres_password'), 'utf8').trim();
    expect(stdout).not.toContain(masterKey);
    expect(stdout).not.toContain(password);
    const ready = (await (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(15_000) })).json()) as {
      checks: Record<string, { status: string }>;
    };
    expect(ready.checks.database?.status).toBe('ok');
    expect(ready.checks.redis?.status).toBe('ok');
  });

  let virtualKey: { id: string; key: string };
  let requestId: string;

  it('a chat with a virtual key writes usage to PostgreSQL and counts its rate limit in Redis', async () => {
    const created = await fetch(`${url}/admin/keys`, {
      method: 'POST',
      signal: AbortSignal.timeout(15_000),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${masterKey}` },
      body: JSON.stringify({ name: 'container-test', rpm: 100 }),
    });
    expect(created.status).toBe(201);
    virtualKey = (await created.json()) as { id: string; key: string };
    expect(virtualKey.key).toMatch(/\S{20,}/);

    const response = await chat(virtualKey.key);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('99');
    requestId = response.headers.get('x-request-id')!;
    expect(requestId).toBeTruthy();

    // Usage is written in batches off the request path.
    const row = await waitFor(
      'the usage row in PostgreSQL',
      async () =>
        (await psql(
          `select key_id, alias, status, prompt_tokens > 0 from usage_records where request_id = '${requestId}'`,
        )) || undefined,
      30_000,
    );
    expect(row).toBe(`${virtualKey.id}|mock|200|t`);
    // The secret itself is stored only as a hash.
    expect(await psql(`select count(*) from api_keys where secret_hash = '${virtualKey.key}'`)).toBe('0');

    const { stdout: redisKeys } = await compose([
      'exec',
      '-T',
      'redis',
      'redis-cli',
      '--scan',
      '--pattern',
      '*',
    ]);
    const limiterKeys = redisKeys.split('\n').filter((key) => key.includes(virtualKey.id));
    expect(limiterKeys.length, `redis keys: ${redisKeys}`).toBeGreaterThan(0);
  });

  it('down then up keeps the data: keys and usage survive in the named volumes', async () => {
    await compose(['down', '--timeout', '30']);
    expect(await services()).toEqual([]);
    await up();
    expect(await psql(`select count(*) from usage_records where request_id = '${requestId}'`)).toBe('1');
    const again = await chat(virtualKey.key);
    expect(again.status).toBe(200);
  });

  it('--profile monitoring starts Prometheus, which scrapes gantry and answers a gantry_ query', async () => {
    // Only Prometheus: no Grafana image can be built here (the dashboard is checked as a file).
    await up({ profile: 'monitoring', services: ['prometheus'] });
    // Prometheus publishes no port in production: ask it from the gantry container, over the
    // stack's own network, with node's fetch.
    const prometheus = async (path: string) => {
      const script = `fetch('http://prometheus:9090${path}').then((r) => r.text()).then((t) => process.stdout.write(t))`;
      const { stdout } = await compose(['exec', '-T', 'gantry', 'node', '-e', script]);
      return JSON.parse(stdout) as PrometheusAnswer;
    };
    const target = await waitFor(
      'Prometheus to report the gantry target up',
      async () => {
        const targets = await prometheus('/api/v1/targets').catch(() => undefined);
        const gantry = targets?.data.activeTargets?.find((entry) => entry.labels.job === 'gantry');
        return gantry?.health === 'up' ? gantry : undefined;
      },
      90_000,
      2_000,
    );
    expect(target.scrapeUrl).toBe('http://gantry:8000/metrics');
    const result = await waitFor(
      'a gantry_requests_total sample in Prometheus',
      async () => {
        const query = await prometheus(`/api/v1/query?query=${encodeURIComponent('gantry_requests_total')}`);
        return query.data.result?.length ? query.data.result : undefined;
      },
      60_000,
      2_000,
    );
    expect(result.some((sample) => sample.metric.route === '/v1/chat/completions')).toBe(true);
  });
});
