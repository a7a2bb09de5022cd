// Cold start: from spawn to the first 200 on POST /v1/chat/completions, with no config file at all
// (the embedded mock defaults), polling every 2 ms with a fresh connection each time. As the image
// ships: with V8's code cache (NODE_COMPILE_CACHE), made beforehand by one unmeasured start as the
// Dockerfile's build stage makes it; and, in alternate runs, without it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort, HAS_TASKSET, SHIPPED_ENV } from './processes.mjs';
import { summarize } from './stats.mjs';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const BODY = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });

async function once({ cores, compileCache, stop }) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gantry-bench-cold-'));
  const args = [process.execPath, CLI, 'serve'];
  const spawnedAt = performance.now();
  const child = spawn(
    HAS_TASKSET ? 'taskset' : args[0],
    HAS_TASKSET ? ['-c', cores, ...args] : args.slice(1),
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...SHIPPED_ENV,
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        ...(compileCache ? { NODE_COMPILE_CACHE: compileCache } : {}),
      },
      stdio: 'ignore',
      // A process group of its own: the gateway and the child that creates its database.
      detached: true,
    },
  );
  let firstOkMs;
  let listeningMs;
  while (performance.now() - spawnedAt < 20_000 && child.exitCode === null) {
    try {
      const response = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: BODY,
      });
      await response.body.dump();
      listeningMs ??= performance.now() - spawnedAt;
      if (response.statusCode === 200) {
        firstOkMs = performance.now() - spawnedAt;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const exited = new Promise((resolve) =>
    child.exitCode !== null ? resolve() : child.once('exit', resolve),
  );
  // 'drain': a graceful stop, which lets the database's creation finish (and Node write the code
  // cache). Otherwise nothing of this start may run beside the next one: the whole group goes, initdb
  // included (a gateway stopped with SIGTERM finishes creating its database first, seconds of CPU).
  if (stop === 'drain') child.kill('SIGTERM');
  else process.kill(-child.pid, 'SIGKILL');
  await exited;
  await groupGone(child.pid);
  rmSync(dataDir, { recursive: true, force: true });
  return { firstOkMs, listeningMs };
}

async function groupGone(pgid) {
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function coldStart({ runs, cores }) {
  const compileCache = mkdtempSync(join(tmpdir(), 'gantry-bench-compile-cache-'));
  try {
    await once({ cores, compileCache, stop: 'drain' });
    const cached = [];
    const uncached = [];
    for (let run = 0; run < runs; run++) {
      // Alternating which goes first, so that neither always follows the other.
      for (const withCache of run % 2 ? [false, true] : [true, false]) {
        (withCache ? cached : uncached).push(
          await once({ cores, compileCache: withCache ? compileCache : undefined }),
        );
      }
    }
    return { runs, ...summarizeRuns(cached), withoutCodeCache: summarizeRuns(uncached) };
  } finally {
    rmSync(compileCache, { recursive: true, force: true });
  }
}

function summarizeRuns(samples) {
  const ok = samples.filter((sample) => sample.firstOkMs !== undefined).map((sample) => sample.firstOkMs);
  return {
    failed: samples.length - ok.length,
    firstOkMs: { ...summarize(ok), min: Math.min(...ok) },
    samples,
  };
}
