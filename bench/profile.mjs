// CPU profile of Gantry under load:
// `node bench/profile.mjs [--streams | --rate=500] [--virtual-key] [--seconds=10] [--node=current]`.
// Runs Gantry (defaults on) with --cpu-prof, drives non-stream chat at concurrency 64 (or 500
// concurrent streams, or open-loop chat at a fixed rate: where the added-latency goal is judged),
// stops it, and writes bench/results/profile-<kind>.md: the functions with the most self time, and
// the same summed per file. `--virtual-key` calls it with the bench's virtual key (rpm, tpm and a
// monthly budget, as a tenant would) instead of the master key.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rerunOnShippedNode } from './node-runtime.mjs';
import { openLoop } from './open-loop.mjs';
import { peakThroughput } from './peak-throughput.mjs';
import { concurrentStreams } from './streams.mjs';
import { createDataTemplate, scratchDir, startGantry, startUpstream } from './targets.mjs';

const argv = process.argv.slice(2);
const STREAMS = argv.includes('--streams');
const VIRTUAL_KEY = argv.includes('--virtual-key');
const SECONDS = Number(argv.find((arg) => arg.startsWith('--seconds='))?.split('=')[1] ?? 10);
const RATE = argv.find((arg) => arg.startsWith('--rate='))?.split('=')[1];
if (RATE !== undefined && !(Number(RATE) > 0))
  throw new Error(`--rate must be a positive number, got ${RATE}`);
const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * Self time per call frame from a .cpuprofile, counting only samples in the last `windowUs` before
 * the profile ended (the load, not the start-up) and leaving idle samples out.
 */
export function summarizeProfile(profile, windowUs) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map();
  let timestamp = profile.startTime;
  const from = profile.endTime - windowUs;
  let total = 0;
  profile.samples.forEach((id, index) => {
    timestamp += profile.timeDeltas[index];
    if (timestamp < from || byId.get(id).callFrame.functionName === '(idle)') return;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    total++;
  });
  const byFrame = new Map();
  const byFile = new Map();
  for (const [id, count] of counts) {
    const { callFrame } = byId.get(id);
    const file = !callFrame.url
      ? `(${callFrame.functionName || 'native'})`
      : callFrame.url.startsWith('file:')
        ? relative(REPO_DIR, fileURLToPath(callFrame.url))
        : callFrame.url;
    const frame = `${file}:${callFrame.functionName || '(anonymous)'}:${callFrame.lineNumber + 1}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + count);
    byFile.set(file, (byFile.get(file) ?? 0) + count);
  }
  const top = (map, limit) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, count]) => ({ name, percent: Math.round((count / total) * 1000) / 10 }));
  return { samples: total, functions: top(byFrame, 30), files: top(byFile, 25) };
}

const runtimeNote = rerunOnShippedNode(argv, console.log);
if (runtimeNote) console.log(runtimeNote);
const upstream = await startUpstream({ cores: '0' });
const profileDir = scratchDir('profile');
const dataTemplate = VIRTUAL_KEY ? await createDataTemplate() : undefined;
const gantry = await startGantry({
  dataTemplate,
  bearer: dataTemplate?.virtualKey,
  name: 'gantry (profiled)',
  upstream,
  cores: '1',
  logCores: '0',
  extraArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
});
let load;
let loadStartedAt;
let stoppedAt;
try {
  await openLoop({ target: gantry, rate: 500, durationMs: 2_000 });
  loadStartedAt = performance.now();
  load = STREAMS
    ? await concurrentStreams({
        target: gantry,
        upstream,
        concurrency: 500,
        chunks: 200,
        delayMs: 20,
        rampMs: 500,
      })
    : RATE
      ? await openLoop({ target: gantry, rate: Number(RATE), durationMs: SECONDS * 1000 })
      : await peakThroughput({ target: gantry, durationS: SECONDS });
} finally {
  await gantry.stop();
  stoppedAt = performance.now();
  await upstream.stop();
  dataTemplate?.remove();
}
const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile written in ${profileDir}`);
const summary = summarizeProfile(
  JSON.parse(readFileSync(join(profileDir, file), 'utf8')),
  (stoppedAt - (loadStartedAt ?? 0)) * 1000,
);
const kind = `${STREAMS ? 'streams' : RATE ? `chat-${RATE}` : 'chat'}${VIRTUAL_KEY ? '-virtual-key' : ''}`;
const describeLoad = () => {
  if (STREAMS) return `${load.ok} streams ok, ${load.errors} failed`;
  if (RATE)
    return `${load.ok} requests at ${RATE} req/s (open loop), p50 ${load.latency.p50.toFixed(2)} ms, p99 ${load.latency.p99.toFixed(2)} ms`;
  return `${Math.round(load.requestsPerSecond)} req/s, ${Math.round(load.cpuMicrosPerRequest)} µs CPU/request`;
};
const scenario = STREAMS
  ? '500 concurrent streams'
  : RATE
    ? `non-stream chat at ${RATE} req/s (open loop)`
    : 'non-stream chat at concurrency 64';
const caller = VIRTUAL_KEY ? ', called with a virtual key (rpm, tpm, monthly budget)' : '';
const lines = [
  `### CPU profile: Gantry under ${scenario}${caller} (${new Date().toISOString()})`,
  '',
  `Node ${process.versions.node}. Load: ${describeLoad()}; ${summary.samples} busy samples from the load window. Self time as a share of busy (non-idle) time.`,
  '',
  '| self % | function (file:function:line) |',
  '|---|---|',
  ...summary.functions.map((row) => `| ${row.percent} | \`${row.name}\` |`),
  '',
  '| self % | file |',
  '|---|---|',
  ...summary.files.map((row) => `| ${row.percent} | \`${row.name}\` |`),
  '',
];
const resultsDir = join(REPO_DIR, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, `profile-${kind}.md`), lines.join('\n'));
console.log(lines.join('\n'));
console.log(`profile: ${join(profileDir, file)}`);
