// Child processes for the bench: spawned pinned to cores (taskset, when present), their RSS read
// from /proc (the whole process tree, so cluster workers count), stopped with SIGTERM then SIGKILL.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { createServer } from 'node:net';

export const HAS_TASKSET = spawnSync('taskset', ['-V']).status === 0;

/** A free TCP port on loopback. */
export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * The settings the container image gives the process (the Dockerfile's `ENV` for V8 and glibc):
 * Gantry is measured as it ships. Read from the Dockerfile so the two cannot drift apart.
 */
export const SHIPPED_ENV = shippedEnv(['NODE_OPTIONS', 'MALLOC_TRIM_THRESHOLD_']);

function shippedEnv(names) {
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
  return Object.fromEntries(
    names.map((name) => {
      const match = new RegExp(`\\b${name}=(\\S+)`).exec(dockerfile);
      if (!match) throw new Error(`the Dockerfile sets no ${name}`);
      return [name, match[1]];
    }),
  );
}

/**
 * Spawns `command args` pinned to `cores` (e.g. "1" or "0-1"). Resolves once `ready(output)`
 * returns a value, which becomes `handle.info`. With `logFile`, stdout and stderr go through a pipe
 * to a `cat` pinned to `logCores` that appends them to the file (see below).
 */
export async function startProcess({
  name,
  command,
  args,
  env,
  cores,
  cwd,
  ready,
  logFile,
  logCores,
  timeoutMs = 30_000,
}) {
  const pinned = HAS_TASKSET && cores !== undefined;
  // A gateway's logs go where a container's do: its stdout is a pipe, and another process (the
  // runtime's log shim; here a `cat` on the load generator's core) writes them to a file. Writing
  // the file itself would charge the gateway for the file system's work (about 10 µs per request
  // with the access log, measured against a pipe), which in a container the shim pays. Not through
  // this process: reading them here would load the load generator's event loop.
  const relay = logFile ? startLogRelay(logFile, logCores) : undefined;
  const child = spawn(pinned ? 'taskset' : command, pinned ? ['-c', cores, command, ...args] : args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    cwd,
    stdio: ['ignore', relay?.stdin ?? 'pipe', relay?.stdin ?? 'pipe'],
  });
  // The child holds its own end of the pipe: `cat` sees the end of it when the child exits.
  relay?.stdin.destroy();
  let piped = '';
  const keep = (chunk) => {
    piped = (piped + chunk).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const output = () => (logFile ? tail(logFile) : piped);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const handle = {
    name,
    child,
    pid: child.pid,
    cores: pinned ? cores : 'unpinned',
    output,
    exited,
    info: undefined,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with ${child.exitCode}:\n${output().slice(-3000)}`);
    const info = await ready(output());
    if (info !== undefined) {
      handle.info = info;
      return handle;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${output().slice(-3000)}`);
}

/** `cat >> logFile`, pinned to `cores`; its stdin is the pipe the logging process writes to. */
function startLogRelay(logFile, cores) {
  const fd = openSync(logFile, 'a');
  const pinned = HAS_TASKSET && cores !== undefined;
  const relay = spawn(pinned ? 'taskset' : 'cat', pinned ? ['-c', cores, 'cat'] : [], {
    stdio: ['pipe', fd, 'ignore'],
  });
  closeSync(fd);
  return relay;
}

function tail(path, bytes = 20_000) {
  try {
    const size = statSync(path).size;
    const fd = openSync(path, 'r');
    const buffer = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    closeSync(fd);
    return buffer.toString('utf8');
  } catch {
    return '';
  }
}

/** Reads the `{"port":N}` line the bench's own servers print. */
export function portLine(output) {
  const match = /\{"port":(\d+)\}/.exec(output);
  return match ? { port: Number(match[1]) } : undefined;
}

/** Resolves `{}` once GET url answers 2xx, else undefined (for `ready`). */
export function httpReady(url) {
  return async () => {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      return response.ok ? {} : undefined;
    } catch {
      return undefined;
    }
  };
}

function childPids(pid) {
  const pids = [];
  const taskDir = `/proc/${pid}/task`;
  if (!existsSync(taskDir)) return pids;
  for (const task of readdirSync(taskDir)) {
    try {
      const text = readFileSync(`${taskDir}/${task}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    } catch {
      // the task ended between the listing and the read
    }
  }
  return pids;
}

/** The pid and every descendant (taskset execs in place, so the spawned pid is the program's). */
export function processTree(pid) {
  const all = [pid];
  for (let index = 0; index < all.length; index++) all.push(...childPids(all[index]));
  return all;
}

function rssOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of the process and its descendants, in MB. */
export function treeRssMb(pid) {
  return processTree(pid).reduce((sum, each) => sum + rssOf(each), 0) / (1024 * 1024);
}

/** CPU seconds (user + system) used so far by the process tree. */
export function treeCpuSeconds(pid) {
  let ticks = 0;
  for (const each of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${each}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

/**
 * CPU seconds used so far by the tree, split by thread: each process's main thread (the event loop),
 * worker threads (Gantry's embedded database runs on one), V8's helper threads (garbage collection
 * and compilation, named V8Worker) and the rest (libuv's thread pool and others).
 */
export function threadCpuSeconds(pid) {
  const split = { main: 0, workers: 0, v8: 0, other: 0 };
  for (const each of processTree(pid)) {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${each}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${each}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
        const kind =
          tid === String(each)
            ? 'main'
            : name === 'WorkerThread'
              ? 'workers'
              : name.startsWith('V8Worker')
                ? 'v8'
                : 'other';
        split[kind] += seconds;
      } catch {
        // the thread ended
      }
    }
  }
  return split;
}

/**
 * Resident memory of the tree by kind, in MB, from /proc/<pid>/smaps: `wasm` is WebAssembly memory
 * (Gantry's embedded database): a read-write anonymous mapping followed by the rest of its
 * reservation, an inaccessible anonymous mapping of a gigabyte or more (V8 reserves 8 GB per
 * memory); `anon` is every other anonymous mapping (V8's heaps, malloc's arenas, thread stacks);
 * `file` is what is mapped from files (the node binary, libraries).
 */
export function memoryBreakdownMb(pid) {
  const totals = { wasm: 0, anon: 0, file: 0 };
  for (const each of processTree(pid)) {
    let text;
    try {
      text = readFileSync(`/proc/${each}/smaps`, 'utf8');
    } catch {
      continue; // gone
    }
    const mappings = [];
    for (const line of text.split('\n')) {
      const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (header) {
        mappings.push({
          start: header[1],
          end: header[2],
          perms: header[3],
          path: header[4].trim(),
          sizeKb: 0,
          rssKb: 0,
        });
        continue;
      }
      const field = /^(Size|Rss):\s+(\d+) kB/.exec(line);
      if (field && mappings.length > 0)
        mappings.at(-1)[field[1] === 'Size' ? 'sizeKb' : 'rssKb'] = Number(field[2]);
    }
    mappings.forEach((mapping, index) => {
      const next = mappings[index + 1];
      const anonymous = mapping.path === '' || mapping.path.startsWith('[');
      const wasm =
        mapping.path === '' &&
        next !== undefined &&
        next.path === '' &&
        next.start === mapping.end &&
        next.perms.startsWith('---') &&
        next.sizeKb >= 1024 * 1024;
      totals[wasm ? 'wasm' : anonymous ? 'anon' : 'file'] += mapping.rssKb / 1024;
    });
  }
  return totals;
}

/** Samples the tree's RSS every `everyMs` until stopped; returns {peak, samples:[{t, mb}]}. */
export function sampleRss(pid, everyMs = 250) {
  const startedAt = performance.now();
  const samples = [];
  const take = () => samples.push({ t: (performance.now() - startedAt) / 1000, mb: treeRssMb(pid) });
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peakMb: Math.max(...samples.map((sample) => sample.mb)), samples };
    },
  };
}
