#!/usr/bin/env node
// Measures the resident memory of one `gantry serve` process (the built CLI, mock provider) at idle
// and under streaming load, to size the Deployment's memory requests/limits from numbers rather than
// guesses. Linux only (reads /proc). Run after `npm run build`:
//   node deploy/k8s/measure-rss.mjs [concurrency=100] [seconds=20]
// Loopback only; the load is bounded in count and time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const concurrency = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 20);
const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = server.address();
    server.close(() => resolve(free));
  });
});
const directory = mkdtempSync(join(tmpdir(), 'gantry-rss-'));
const configFile = join(directory, 'gantry.yaml');
// 200 words at 10 ms per chunk: ~2 s streams, so `concurrency` streams are always open.
writeFileSync(
  configFile,
  [
    'logging: { access_log: false }',
    'models:',
    '  - alias: mock',
    '    deployments:',
    '      - { provider: mock, model: mock, mock: { chunk_delay: 10ms, words: 200 } }',
  ].join('\n'),
);
const child = spawn(process.execPath, [cli, 'serve'], {
  env: {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    GANTRY_CONFIG: configFile,
    DATA_DIR: directory,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

function memory() {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

for (let attempt = 0; attempt < 200; attempt++) {
  try {
    if ((await fetch(`${base}/startup`)).ok) break;
  } catch {
    // not listening yet
  }
  await sleep(50);
}
await sleep(1000);
const idle = memory();

let requests = 0;
let failures = 0;
const deadline = Date.now() + seconds * 1000;
async function worker(index) {
  while (Date.now() < deadline) {
    const stream = index % 4 !== 0;
    try {
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'mock',
          stream,
          messages: [{ role: 'user', content: `load ${index} ${requests}` }],
        }),
      });
      await response.text();
      if (!response.ok) failures++;
    } catch {
      failures++;
    }
    requests++;
  }
}
let peakUnderLoad = 0;
const sampler = setInterval(() => {
  peakUnderLoad = Math.max(peakUnderLoad, memory().rssMiB);
}, 250);
await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
clearInterval(sampler);
const after = memory();
child.kill('SIGTERM');

const round = (value) => Math.round(value * 10) / 10;
console.log(
  JSON.stringify({
    node: process.version,
    concurrency,
    seconds,
    requests,
    failures,
    idleRssMiB: round(idle.rssMiB),
    peakRssUnderLoadMiB: round(peakUnderLoad),
    highWaterMarkMiB: round(after.peakMiB),
    rssAfterLoadMiB: round(after.rssMiB),
  }),
);
