// Open-loop load: requests leave on a fixed schedule whatever the server does, and each latency is
// measured from the moment the request was *scheduled*, not sent. A closed-loop tool (autocannon,
// wrk) waits for answers before sending more, so a stalled server gets fewer requests and its stall
// is hidden (coordinated omission); here a stall shows up in every request scheduled during it.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { summarize } from './stats.mjs';

const CHAT_BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say hello.' }] });

/**
 * Sends POST /v1/chat/completions at `rate` per second for `durationMs`. Stops early (marking the
 * run saturated) when more than a second's worth of requests is outstanding, so an overloaded
 * target cannot stretch the run by minutes.
 */
export async function openLoop({ target, rate, durationMs, body = CHAT_BODY, connections = 512 }) {
  const pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const fromSchedule = [];
  const fromSend = [];
  let sent = 0;
  let settled = 0;
  let errors = 0;
  let saturated = false;
  const firstErrors = [];
  const startAt = performance.now() + 5;

  const finishOne = () => {
    settled++;
    if (settled === sent && (sent === total || saturated)) resolveDone();
  };
  let resolveDone;
  const done = new Promise((resolve) => {
    resolveDone = resolve;
  });

  function send(scheduledAt) {
    const sentAt = performance.now();
    pool
      .request({ path: '/v1/chat/completions', method: 'POST', headers: target.headers, body })
      .then(async (response) => {
        await response.body.dump({ limit: Number.POSITIVE_INFINITY });
        const now = performance.now();
        if (response.statusCode === 200) {
          fromSchedule.push(now - scheduledAt);
          fromSend.push(now - sentAt);
        } else {
          errors++;
          if (firstErrors.length < 3) firstErrors.push(`HTTP ${response.statusCode}`);
        }
      })
      .catch((error) => {
        errors++;
        if (firstErrors.length < 3) firstErrors.push(String(error.code ?? error.message));
      })
      .finally(finishOne);
  }

  // Timers fire at best every ~1 ms; each tick sends everything whose time has come, so a late tick
  // sends a small burst and the lateness is charged to those requests (it is the same for every target).
  function tick() {
    const now = performance.now();
    while (sent < total && startAt + sent * interval <= now) {
      if (sent - settled > rate) {
        saturated = true;
        break;
      }
      send(startAt + sent * interval);
      sent++;
    }
    if (sent < total && !saturated) setTimeout(tick, 1);
    else if (settled === sent) resolveDone();
  }
  setTimeout(tick, 1);
  // A saturated target may never answer its backlog; give it a bounded time.
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, durationMs + 15_000).unref())]);
  await pool.destroy();
  const elapsed = (performance.now() - startAt) / 1000;
  return {
    rate,
    scheduled: total,
    sent,
    ok: fromSchedule.length,
    errors,
    firstErrors,
    saturated,
    achievedRate: fromSchedule.length / elapsed,
    latency: summarize(fromSchedule),
    serviceLatency: summarize(fromSend),
  };
}
