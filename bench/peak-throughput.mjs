// Peak throughput: closed loop at a fixed concurrency (autocannon), which is the right tool for
// "how many requests a second at most", and the wrong one for latency (see open-loop.mjs).
import autocannon from 'autocannon';
import { threadCpuSeconds, treeCpuSeconds } from './processes.mjs';

const CHAT_BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say hello.' }] });

/**
 * Runs autocannon against the target; also reports the target's CPU time per request. autocannon
 * checks its deadline once a second, so a round lasts whole seconds: a duration of 1.5 s ran for 2
 * and, divided by 1.5, overstated the rate by a third. Durations are whole seconds, and the rate is
 * divided by the time the round really took.
 */
export async function peakThroughput({ target, connections = 64, durationS }) {
  if (!Number.isInteger(durationS) || durationS < 1)
    throw new Error(
      `peakThroughput: durationS must be a whole number of seconds (autocannon's), got ${durationS}`,
    );
  const cpuBefore = treeCpuSeconds(target.pid);
  const threadsBefore = threadCpuSeconds(target.pid);
  const result = await autocannon({
    url: `${target.origin}/v1/chat/completions`,
    method: 'POST',
    headers: target.headers,
    body: CHAT_BODY,
    connections,
    pipelining: 1,
    duration: durationS,
  });
  const cpuSeconds = treeCpuSeconds(target.pid) - cpuBefore;
  const threadsAfter = threadCpuSeconds(target.pid);
  const ok = result['2xx'];
  // autocannon's own measure of the round, in seconds (to 10 ms)
  const elapsedS = result.duration;
  return {
    connections,
    durationS: elapsedS,
    requestsPerSecond: ok / elapsedS,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    targetCpuSeconds: cpuSeconds,
    cpuMicrosPerRequest: ok > 0 ? (cpuSeconds * 1e6) / ok : Number.NaN,
    /** The same split by thread (see threadCpuSeconds). */
    threadCpuSeconds: Object.fromEntries(
      Object.keys(threadsAfter).map((kind) => [kind, threadsAfter[kind] - threadsBefore[kind]]),
    ),
  };
}
