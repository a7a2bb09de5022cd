// The things measured side by side: the upstream itself, the bare proxy (the floor), Gantry as a
// real process (1 worker, N workers, and with single features switched off) and the Portkey gateway.
// Every target exposes the same shape: { name, origin, headers, pid, cores, stop() }.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, httpReady, portLine, processTree, SHIPPED_ENV, startProcess } from './processes.mjs';

const execFileAsync = promisify(execFile);
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_DIR = join(BENCH_DIR, '..');
const CLI = join(REPO_DIR, 'dist/cli/main.js');
export const MASTER_KEY = 'bench-master-key-0123456789';
export const PORTKEY_VERSION = '1.15.2';
// A plain install pulls @hono/node-server 1.19.x, with which every stream answers 500 (Portkey #1389).
export const PORTKEY_HONO_OVERRIDE = '1.14.1';
// The Node Portkey's own image runs on (its Dockerfile: `FROM node:20-alpine`).
export const PORTKEY_NODE_MAJOR = 20;
const JSON_HEADERS = { 'content-type': 'application/json' };

export function scratchDir(prefix) {
  return mkdtempSync(join(tmpdir(), `gantry-bench-${prefix}-`));
}

export async function startUpstream({ cores }) {
  const handle = await startProcess({
    name: 'upstream',
    command: process.execPath,
    args: [join(BENCH_DIR, 'fake-upstream.mjs')],
    cores,
    ready: portLine,
  });
  const origin = `http://127.0.0.1:${handle.info.port}`;
  return {
    name: 'upstream (direct)',
    origin,
    headers: JSON_HEADERS,
    pid: handle.pid,
    cores: handle.cores,
    stop: handle.stop,
    /** Sets the SSE shape every later stream gets. */
    async setStreamShape(shape) {
      const response = await fetch(`${origin}/__stream`, { method: 'POST', body: JSON.stringify(shape) });
      return response.json();
    },
  };
}

/** A one-file proxy in bench/ pointed at the upstream; it prints {"port":N} once listening. */
async function startProxyScript({ name, script, upstream, cores }) {
  const handle = await startProcess({
    name,
    command: process.execPath,
    args: [join(BENCH_DIR, script), upstream.origin],
    cores,
    ready: portLine,
  });
  return {
    name,
    origin: `http://127.0.0.1:${handle.info.port}`,
    headers: JSON_HEADERS,
    pid: handle.pid,
    cores: handle.cores,
    stop: handle.stop,
  };
}

export function startBareProxy({ upstream, cores }) {
  return startProxyScript({ name: 'bare proxy (floor)', script: 'bare-proxy.mjs', upstream, cores });
}

/** The framework floor (fastify-proxy.mjs): Fastify and undici doing the bare proxy's job. */
export function startFastifyProxy({ upstream, cores }) {
  return startProxyScript({
    name: 'Fastify proxy (framework floor)',
    script: 'fastify-proxy.mjs',
    upstream,
    cores,
  });
}

function gantryConfigYaml({ upstream, workers }) {
  return [
    'app:',
    '  default_model: bench',
    'server:',
    `  workers: ${workers}`,
    'models:',
    '  - alias: bench',
    '    deployments:',
    '      - provider: openai-compatible',
    '        model: bench',
    `        base_url: ${upstream.origin}/v1`,
    '        api_key: test',
    // USD per million tokens, so usage rows carry a cost and a budget has something to count.
    '        price: { input: 0.15, output: 0.6 }',
    '',
  ].join('\n');
}

/**
 * The bench's virtual key: every limit checked on every request, none ever reached (`rpm` and `tpm`
 * at most 2,147,483,647, the column's bound).
 */
export const VIRTUAL_KEY_LIMITS = { rpm: 1_000_000_000, tpm: 2_000_000_000, budgetUsd: 1_000_000 };

/**
 * An embedded data directory, created and migrated once by `gantry migrate`, for `startGantry`'s
 * `dataTemplate`: processes started on a copy skip creating one (seconds of WebAssembly each).
 * It holds one virtual key, as a tenant of the gateway would call it: request and token limits
 * and a monthly budget, all far above what the bench sends (`virtualKey`, for `startGantry`'s
 * `bearer`). Asynchronous, so the run can go on starting its targets meanwhile.
 */
export async function createDataTemplate() {
  const dir = scratchDir('template');
  const dataDir = join(dir, 'data');
  const gantry = async (args) => {
    try {
      const { stdout } = await execFileAsync(process.execPath, [CLI, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...SHIPPED_ENV, DATA_DIR: dataDir },
        encoding: 'utf8',
        timeout: 120_000,
      });
      return stdout;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `gantry ${args[0]} failed (${error.code ?? error.signal}): ${error.stderr || error.stdout || error.message}`,
      );
    }
  };
  await gantry(['migrate']);
  const created = JSON.parse(
    await gantry([
      'keys',
      'create',
      '--name',
      'bench tenant',
      '--rpm',
      String(VIRTUAL_KEY_LIMITS.rpm),
      '--tpm',
      String(VIRTUAL_KEY_LIMITS.tpm),
      '--budget',
      String(VIRTUAL_KEY_LIMITS.budgetUsd),
      '--period',
      'monthly',
    ]),
  );
  return { dataDir, virtualKey: created.key, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Gantry with default settings (info logs, access log, metrics, master key) unless `env` switches
 * something off; `auth: false` runs it without a master key, `bearer` calls it with that key (a
 * virtual key) instead of the master key. `dataTemplate` (createDataTemplate)
 * starts it on a copy of that data directory instead of a new one. `logCores` pins the process that
 * writes its stdout to the log file (see startProcess).
 */
export async function startGantry({
  name,
  upstream,
  cores,
  workers = 1,
  env = {},
  auth = true,
  extraArgs = [],
  keepDir = false,
  dataTemplate,
  logCores,
  bearer = MASTER_KEY,
}) {
  const dir = scratchDir('gantry');
  if (dataTemplate) cpSync(dataTemplate.dataDir, join(dir, 'data'), { recursive: true });
  const configPath = join(dir, 'gantry.yaml');
  writeFileSync(configPath, gantryConfigYaml({ upstream, workers }));
  const port = await freePort();
  const handle = await startProcess({
    name,
    command: process.execPath,
    args: [...extraArgs, CLI, 'serve'],
    cores,
    cwd: dir,
    logFile: join(dir, 'gantry.log'),
    logCores,
    env: {
      ...SHIPPED_ENV,
      GANTRY_CONFIG: configPath,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      DATA_DIR: join(dir, 'data'),
      ...(auth ? { GANTRY_MASTER_KEY: MASTER_KEY } : {}),
      ...env,
    },
    // /startup: migrations done and the embedded database up, so its start-up CPU (initdb in
    // WebAssembly, seconds) does not land in the first measurement.
    ready: httpReady(`http://127.0.0.1:${port}/startup`),
    timeoutMs: 90_000,
  });
  // With server.workers > 1 the primary forks; give the workers a moment to listen.
  if (workers > 1) await new Promise((resolve) => setTimeout(resolve, 1_500));
  return {
    name,
    origin: `http://127.0.0.1:${port}`,
    headers: auth ? { ...JSON_HEADERS, authorization: `Bearer ${bearer}` } : JSON_HEADERS,
    pid: handle.pid,
    cores: handle.cores,
    alive: () => handle.child.exitCode === null && handle.child.signalCode === null,
    processes: () => processTree(handle.pid).length,
    logFile: join(dir, 'gantry.log'),
    output: handle.output,
    async stop() {
      const result = await handle.stop();
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}

/** Installs Portkey's gateway into bench/.cache/portkey (reused between runs). Returns its directory. */
export function ensurePortkey(log) {
  const dir = join(BENCH_DIR, '.cache', 'portkey');
  const installed = join(dir, 'node_modules/@portkey-ai/gateway/package.json');
  const hono = join(dir, 'node_modules/@hono/node-server/package.json');
  const version = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')).version : undefined);
  if (version(installed) === PORTKEY_VERSION && version(hono) === PORTKEY_HONO_OVERRIDE) {
    return { dir, gateway: PORTKEY_VERSION, hono: PORTKEY_HONO_OVERRIDE, cached: true };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'portkey-bench',
      private: true,
      dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION },
      overrides: { '@hono/node-server': PORTKEY_HONO_OVERRIDE },
    }),
  );
  log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${dir} …`);
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (result.status !== 0)
    throw new Error(`npm install failed: ${(result.stderr || result.stdout || '').slice(-1500)}`);
  return { dir, gateway: version(installed), hono: version(hono), cached: false };
}

/** Portkey's gateway, on `node` (a binary path; this process's Node by default). */
export async function startPortkey({ upstream, cores, logCores, install, node = process.execPath }) {
  const port = await freePort();
  const dir = scratchDir('portkey');
  const handle = await startProcess({
    name: 'portkey',
    command: node,
    args: [
      join(install.dir, 'node_modules/@portkey-ai/gateway/build/start-server.js'),
      `--port=${port}`,
      '--headless',
    ],
    cores,
    cwd: install.dir,
    logFile: join(dir, 'portkey.log'),
    logCores,
    ready: httpReady(`http://127.0.0.1:${port}/`),
  });
  return {
    name: `portkey ${install.gateway}`,
    origin: `http://127.0.0.1:${port}`,
    headers: {
      ...JSON_HEADERS,
      authorization: 'Bearer test',
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstream.origin}/v1`,
    },
    pid: handle.pid,
    cores: handle.cores,
    output: handle.output,
    async stop() {
      const result = await handle.stop();
      rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}
