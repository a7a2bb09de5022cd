// Soak: steady mixed load (open-loop chat plus a fixed number of streams always running) while the
// target's RSS is sampled; after the warm-up, a least-squares line through the samples gives the
// growth trend. A leak shows as a steady positive slope; GC shows as noise around a flat line.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { openLoop } from './open-loop.mjs';
import { sampleRss } from './processes.mjs';
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

export async function soak({ target, upstream, durationMs, rate, streams, warmupFraction = 0.25 }) {
  await upstream.setStreamShape({ chunks: 200, delayMs: 5 });
  const rss = sampleRss(target.pid, 1_000);
  const until = performance.now() + durationMs;
  const [chat, streamed] = await Promise.all([
    openLoop({ target, rate, durationMs }),
    keepStreaming({ target, streams, until }),
  ]);
  const { samples, peakMb } = rss.stop();
  const warmupS = (durationMs / 1000) * warmupFraction;
  const steady = samples.filter((sample) => sample.t >= warmupS);
  const fit = linearRegression(
    steady.map((sample) => sample.t / 60),
    steady.map((sample) => sample.mb),
  );
  const meanMb = steady.reduce((sum, sample) => sum + sample.mb, 0) / steady.length;
  const windowMin = (steady.at(-1).t - steady[0].t) / 60;
  // "No growth trend": what the line adds over the steady window stays within noise (3 MB or 3%).
  const growthMb = fit.slope * windowMin;
  return {
    durationS: durationMs / 1000,
    warmupS,
    rate,
    streams,
    chat: { ok: chat.ok, errors: chat.errors, p50: chat.latency.p50, p99: chat.latency.p99 },
    streamed,
    startMb: samples[0].mb,
    peakMb,
    steadyMeanMb: meanMb,
    slopeMbPerMin: fit.slope,
    r2: fit.r2,
    growthOverWindowMb: growthMb,
    noGrowthTrend: growthMb <= Math.max(3, meanMb * 0.03),
    samples: samples.map((sample) => [Math.round(sample.t * 10) / 10, Math.round(sample.mb * 10) / 10]),
  };
}
