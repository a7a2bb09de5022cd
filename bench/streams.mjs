// Concurrent SSE streams: time to first token, the delay added per chunk, and the target's RSS
// while they run. Streams start spread over `rampMs` so the listen backlog does not overflow.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { sampleRss, treeCpuSeconds } from './processes.mjs';
import { summarize } from './stats.mjs';

const STREAM_BODY = JSON.stringify({
  model: 'bench',
  stream: true,
  messages: [{ role: 'user', content: 'Tell me a story.' }],
});

function oneStream(pool, target, result) {
  const sentAt = performance.now();
  return pool
    .request({ path: '/v1/chat/completions', method: 'POST', headers: target.headers, body: STREAM_BODY })
    .then(
      (response) =>
        new Promise((resolve) => {
          let firstAt;
          let tailText = '';
          response.body.on('data', (chunk) => {
            // The first byte that carries an event is the first token as a client sees it.
            firstAt ??= performance.now();
            tailText = (tailText + chunk.toString('latin1')).slice(-64);
          });
          response.body.on('error', (error) => {
            result.errors.push(String(error.code ?? error.message));
            resolve();
          });
          response.body.on('end', () => {
            const endAt = performance.now();
            if (response.statusCode !== 200 || !tailText.includes('[DONE]')) {
              result.errors.push(`HTTP ${response.statusCode} ${JSON.stringify(tailText.slice(-40))}`);
            } else {
              result.ttft.push(firstAt - sentAt);
              result.total.push(endAt - sentAt);
              result.afterFirst.push(endAt - firstAt);
            }
            resolve();
          });
        }),
    )
    .catch((error) => {
      result.errors.push(String(error.code ?? error.message));
    });
}

export async function concurrentStreams({ target, upstream, concurrency, chunks, delayMs, rampMs }) {
  await upstream.setStreamShape({ chunks, delayMs });
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1, bodyTimeout: 120_000 });
  const result = { ttft: [], total: [], afterFirst: [], errors: [] };
  const rss = sampleRss(target.pid, 200);
  const cpuBefore = treeCpuSeconds(target.pid);
  const startedAt = performance.now();
  const running = [];
  for (let index = 0; index < concurrency; index++) {
    const dueAt = startedAt + (index * rampMs) / concurrency;
    const wait = dueAt - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    running.push(oneStream(pool, target, result));
  }
  await Promise.all(running);
  const wallS = (performance.now() - startedAt) / 1000;
  const { peakMb } = rss.stop();
  const cpuSeconds = treeCpuSeconds(target.pid) - cpuBefore;
  await pool.destroy();
  const errorKinds = {};
  for (const error of result.errors) errorKinds[error] = (errorKinds[error] ?? 0) + 1;
  return {
    concurrency,
    chunks,
    delayMs,
    rampMs,
    ok: result.ttft.length,
    errors: result.errors.length,
    errorKinds,
    ttftMs: summarize(result.ttft),
    totalMs: summarize(result.total),
    // Mean gap between chunks as one client saw it, per stream.
    chunkGapMs: summarize(result.afterFirst.map((ms) => ms / (chunks - 1))),
    peakRssMb: peakMb,
    targetCpuSeconds: cpuSeconds,
    wallS,
  };
}
