import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Writes a YAML config to a temporary file and returns its path. */
export function writeTempConfig(yaml: string, name = 'gantry.yaml'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gantry-test-')), name);
  writeFileSync(path, yaml);
  return path;
}

export interface GantryProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Parsed JSON log lines from stdout. */
  logs(): Array<Record<string, unknown>>;
  /** Sends a signal and resolves with the exit code (or signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
  exited: Promise<number | string | null>;
}

export interface StartOptions {
  readonly env?: Record<string, string | undefined>;
  readonly args?: readonly string[];
  /** YAML text written to a temp file and passed as GANTRY_CONFIG. */
  readonly configYaml?: string;
  /** How long to wait for /startup (ms). */
  readonly readyTimeoutMs?: number;
  /** Resolve as soon as the process is spawned, without waiting for readiness. */
  readonly noWait?: boolean;
  /** The probe that must answer 200 before the process counts as up (default: startup). */
  readonly waitFor?: 'health' | 'startup' | 'ready';
}

/** Spawns the built CLI (`node dist/cli/main.js serve`) on a free port; resolves when /startup answers. */
export async function startGantry(options: StartOptions = {}): Promise<GantryProcess> {
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'gantry-data-')),
    ...options.env,
  };
  if (options.configYaml !== undefined) env.GANTRY_CONFIG = writeTempConfig(options.configYaml);
  const child = spawn(process.execPath, [CLI, ...(options.args ?? ['serve'])], {
    env: Object.fromEntries(
      Object.entries(env).filter(([, value]) => value !== undefined),
    ) as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
  });
  const url = `http://127.0.0.1:${port}`;
  const handle: GantryProcess = {
    url,
    port,
    child,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
  if (options.noWait) return handle;
  // The embedded database's first start (initdb) takes tens of seconds on a loaded 2-core machine.
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`gantry exited with ${child.exitCode} before it was up:\n${output}`);
    try {
      // /startup, not /health: initialisation (the embedded database) may still be busy after the
      // listener opens, and a test's first request would then wait on it.
      const response = await fetch(`${url}/${options.waitFor ?? 'startup'}`);
      if (response.ok) return handle;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`gantry did not come up within the timeout:\n${output}`);
}
