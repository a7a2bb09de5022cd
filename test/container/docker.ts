import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/gantry-process.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly input?: string;
  /** Resolve with the exit code instead of throwing when the command fails. */
  readonly allowFailure?: boolean;
  readonly timeoutMs?: number;
}

/** Runs a command to completion; throws with its output when it exits non-zero (unless allowed). */
export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}) {
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      // BuildKit always: cache mounts and the CACHED lines the layer-reuse test reads need it.
      env: { ...process.env, DOCKER_BUILDKIT: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 540_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin.end(options.input ?? '');
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && !options.allowFailure) {
        const output = `${stdout}\n${stderr}`.trim().slice(-6_000);
        reject(new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${output}`));
        return;
      }
      resolve(result);
    });
  });
}

export const docker = (args: readonly string[], options?: CommandOptions) =>
  runCommand('docker', args, options);

/** A short random suffix for container, project and image names, so parallel runs never clash. */
export function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Resolves once check() returns a value (not undefined), or throws after timeoutMs. An error
 * thrown by check() ends the wait at once: catch inside check() what is worth retrying.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits for a container's HEALTHCHECK to report healthy; fails fast if it turns unhealthy or exits. */
export async function waitHealthy(container: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `${container} to become healthy`,
    async () => {
      const { stdout } = await docker([
        'inspect',
        '--format',
        '{{.State.Status}} {{.State.Health.Status}}',
        container,
      ]);
      const [state, health] = stdout.trim().split(' ');
      if (state === 'exited' || state === 'dead' || health === 'unhealthy') {
        const logs = await docker(['logs', '--tail', '50', container], { allowFailure: true });
        throw new Error(`${container} is ${state}/${health}:\n${logs.stdout}${logs.stderr}`);
      }
      return health === 'healthy' ? true : undefined;
    },
    timeoutMs,
    1_000,
  );
}

/** Bytes of `docker save IMAGE | gzip`, counted as the stream goes (nothing written to disk). */
export async function compressedImageSize(image: string): Promise<number> {
  const { createGzip } = await import('node:zlib');
  return new Promise<number>((resolve, reject) => {
    const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'pipe'] });
    const gzip = createGzip({ level: 6 });
    let bytes = 0;
    let stderr = '';
    save.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    gzip.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    gzip.on('end', () => resolve(bytes));
    gzip.on('error', reject);
    save.on('close', (code) => {
      if (code !== 0) reject(new Error(`docker save ${image} exited with ${code}: ${stderr}`));
    });
    save.stdout.pipe(gzip);
  });
}

/**
 * Writes gantry.yaml into `directory` for a read-only bind mount, readable by the image's user
 * (10001) whatever the umask, and returns its path.
 */
export function writeMountedConfig(directory: string, yaml: string): string {
  const file = join(directory, 'gantry.yaml');
  writeFileSync(file, yaml);
  chmodSync(file, 0o644);
  return file;
}

/**
 * `docker run --detach` of `image` as `container`, its port 8000 published on a free loopback port,
 * with `options` (flags, volumes, environment); returns the gateway's URL.
 */
export async function runDetached(container: string, image: string, options: readonly string[]) {
  const port = await freePort();
  await docker([
    'run',
    '--detach',
    '--name',
    container,
    '--publish',
    `127.0.0.1:${port}:8000`,
    ...options,
    image,
  ]);
  return `http://127.0.0.1:${port}`;
}
