// Soak: steady mixed load (open-loop chat plus a fixed number of streams always running) while the
// target's RSS is sampled; after the warm-up, a least-squares line through the samples gives the
// growth trend. A leak shows as a steady positive slope; GC shows as noise around a flat line.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { openLoop } from './open-loop.mjs';
import { memoryBreakdownMb, sampleRss } from './processes.mjs';
import { linearRegression } from './stats.mjs';

const STREAM_BODY = JSON.stringify({
  model: 'bench',
  stream: true,
  messages: [{ role: 'user', content: 'Go.' }],
});

async function keepStreaming({ target, streams, until }) {
  const pool = new Pool(target.origin, { connections: streams, pipelining: 1 });
  let completed = 0;
  let failed = 0;
  const lane = async () => {
    while (performance.now() < until) {
      try {
        const response = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: target.headers,
          body: STREAM_BODY,
        });
        const text = await response.body.text();
        if (response.statusCode === 200 && text.includes('[DONE]')) completed++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: streams }, lane));
  await pool.destroy();
  return { completed, failed };
}

/**
 * The V8 heaps (used and total, MB) from the target's Prometheus metrics, if it has them: the main
 * thread's, and the embedded database thread's where it runs one.
 */
async function v8HeapMb(target) {
  try {
    const response = await fetch(`${target.origin}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const text = await response.text();
    const gauge = (name) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
      return match ? Number(match[1]) / (1024 * 1024) : null;
    };
    return {
      heapUsed: gauge('nodejs_heap_size_used_bytes'),
      heapTotal: gauge('nodejs_heap_size_total_bytes'),
      // The embedded database's thread is a V8 isolate of its own (absent on a database server).
      databaseHeapUsed: gauge('gantry_embedded_database_heap_size_used_bytes'),
      databaseHeapTotal: gauge('gantry_embedded_database_heap_size_total_bytes'),
    };
  } catch {
    return { heapUsed: null, heapTotal: null, databaseHeapUsed: null, databaseHeapTotal: null };
  }
}

/**
 * Every `everyMs`, the target's resident memory by kind (WebAssembly, other anonymous, files) and
 * its main V8 heap, so a trend in the total can be traced to the part that grows.
 */
function sampleComponents(target, everyMs) {
  const startedAt = performance.now();
  const samples = [];
  const take = async () => {
    const t = (performance.now() - startedAt) / 1000;
    const memory = memoryBreakdownMb(target.pid);
    samples.push({ t, ...memory, ...(await v8HeapMb(target)) });
  };
  void take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * The least-squares line through `points` (each {t: seconds, [key]: MB}): slope per minute, r², the
 * mean, and what the line adds from the first point to the last. Samples without a value are skipped.
 */
function trendOf(points, key) {
  const valued = points.filter((point) => point[key] !== null && point[key] !== undefined);
  if (valued.length < 3) return undefined;
  const fit = linearRegression(
    valued.map((point) => point.t / 60),
    valued.map((point) => point[key]),
  );
  return {
    first: valued[0][key],
    last: valued.at(-1)[key],
    mean: valued.reduce((sum, point) => sum + point[key], 0) / valued.length,
    slopeMbPerMin: fit.slope,
    r2: fit.r2,
    growthOverWindowMb: (fit.slope * (valued.at(-1).t - valued[0].t)) / 60,
  };
}

/** The trend of each part of the memory after the warm-up, fitted like the total. */
function componentTrends(samples, warmupS) {
  const steady = samples.filter((sample) => sample.t >= warmupS);
  const trends = {};
  for (const name of [
    'wasm',
    'anon',
    'file',
    'heapUsed',
    'heapTotal',
    'databaseHeapUsed',
    'databaseHeapTotal',
  ]) {
    const trend = trendOf(steady, name);
    if (trend) trends[name] = trend;
  }
  return Object.keys(trends).length > 0 ? trends : undefined;
}

export async function soak({ target, upstream, durationMs, rate, streams, warmupFraction = 0.25 }) {
  await upstream.setStreamShape({ chunks: 200, delayMs: 5 });
  const rss = sampleRss(target.pid, 1_000);
  const components = sampleComponents(target, 10_000);
  const until = performance.now() + durationMs;
  const [chat, streamed] = await Promise.all([
    openLoop({ target, rate, durationMs }),
    keepStreaming({ target, streams, until }),
  ]);
  const { samples, peakMb } = rss.stop();
  const componentSamples = components.stop();
  const warmupS = (durationMs / 1000) * warmupFraction;
  const total = trendOf(
    samples.filter((sample) => sample.t >= warmupS),
    'mb',
  );
  return {
    durationS: durationMs / 1000,
    warmupS,
    rate,
    streams,
    chat: { ok: chat.ok, errors: chat.errors, p50: chat.latency.p50, p99: chat.latency.p99 },
    streamed,
    startMb: samples[0].mb,
    peakMb,
    steadyMeanMb: total.mean,
    slopeMbPerMin: total.slopeMbPerMin,
    r2: total.r2,
    growthOverWindowMb: total.growthOverWindowMb,
    // "No growth trend": what the line adds over the steady window stays within noise (3 MB or 3%).
    noGrowthTrend: total.growthOverWindowMb <= Math.max(3, total.mean * 0.03),
    components: componentTrends(componentSamples, warmupS),
    componentSamples: componentSamples.map((sample) =>
      Object.fromEntries(
        Object.entries(sample).map(([key, value]) => [
          key,
          value === null ? null : Math.round(value * 10) / 10,
        ]),
      ),
    ),
    samples: samples.map((sample) => [Math.round(sample.t * 10) / 10, Math.round(sample.mb * 10) / 10]),
  };
}
