import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/gantry-process.js';
import { SERVER_DATABASE_URL } from '../storage/test-database.js';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

interface Served {
  readonly url: string;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

/** `gantry serve` with stdout and stderr kept apart, so the test can say where errors go. */
async function serve(env: Record<string, string>): Promise<Served> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-startup-'));
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  return { url: `http://127.0.0.1:${port}`, child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitFor(condition: () => boolean, what: () => string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; output so far:\n${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The `err.message` of every failed start logged so far. */
function startFailures(served: Served): string[] {
  return served
    .stdout()
    .split('\n')
    .filter((line) => line.includes('starting state services failed'))
    .map((line) => (JSON.parse(line) as { err: { message: string } }).err.message);
}

/**
 * What `serve` does when a state server is unusable at startup: the listener stays up (liveness
 * 200, startup and readiness 503), the failure is logged on stdout as JSON naming the setting, and
 * the start is retried with backoff — a server that comes up later is picked up without a restart.
 * The process does not exit on its own; SIGTERM stops it cleanly.
 */
describe('serve with an unusable state server at startup', () => {
  const running: Served[] = [];

  afterEach(async () => {
    for (const served of running.splice(0)) {
      if (served.child.exitCode === null) served.child.kill('SIGKILL');
      await served.exited;
    }
  });

  async function expectStartingAndNaming(served: Served, pattern: RegExp, secret: string) {
    await waitFor(
      () => startFailures(served).length >= 2,
      () => served.stdout() + served.stderr(),
    );
    for (const message of startFailures(served)) expect(message).toMatch(pattern);
    expect(served.stdout()).not.toContain(secret);
    expect(served.stderr()).toBe('');
    expect(served.child.exitCode).toBeNull();
    expect((await fetch(`${served.url}/health`)).status).toBe(200);
    const startup = await fetch(`${served.url}/startup`);
    expect(startup.status).toBe(503);
    expect((await fetch(`${served.url}/ready`)).status).toBe(503);
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  }

  it('names redis.url (REDIS_URL) when Redis refuses connections, and keeps retrying', async () => {
    const port = await freePort();
    const served = await serve({ REDIS_URL: `redis://:redis-secret-9@127.0.0.1:${port}`, LOG_LEVEL: 'info' });
    running.push(served);
    await expectStartingAndNaming(
      served,
      new RegExp(
        `^redis\\.url \\(REDIS_URL\\): cannot reach redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}.*ECONNREFUSED`,
      ),
      'redis-secret-9',
    );
  }, 90_000);

  it.runIf(Boolean(SERVER_DATABASE_URL))(
    'names database.url (DATABASE_URL) when the database does not exist, and keeps retrying',
    async () => {
      const url = new URL(SERVER_DATABASE_URL!);
      url.pathname = '/gantry_no_such_database';
      url.password = 'pg-secret-7';
      const served = await serve({ DATABASE_URL: url.toString(), LOG_LEVEL: 'info' });
      running.push(served);
      await expectStartingAndNaming(
        served,
        /^database\.url \(DATABASE_URL\): database "gantry_no_such_database" does not exist/,
        'pg-secret-7',
      );
    },
    90_000,
  );
});
