// The bench's load generators and statistics, against servers whose behaviour the test controls:
// the open-loop generator must charge a stall to every request scheduled during it (no coordinated
// omission), stop on a saturated target, and the stream scenario must count a stream that ends
// without [DONE] as failed, never as a fast success.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openLoop } from '../../bench/open-loop.mjs';
import { peakThroughput } from '../../bench/peak-throughput.mjs';
import { linearRegression, median, percentile, summarize } from '../../bench/stats.mjs';
import { concurrentStreams } from '../../bench/streams.mjs';
import { startUpstream } from '../../bench/targets.mjs';

const JSON_HEADERS = { 'content-type': 'application/json' };

async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void) {
  const server = createServer((request, response) => {
    request.resume();
    request.once('end', () => handler(request, response));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, origin };
}

function close(server: Server) {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
}

/** The fake upstream for the enclosing describe block, started before its tests and stopped after. */
function fakeUpstream() {
  let upstream: Awaited<ReturnType<typeof startUpstream>> | undefined;
  beforeAll(async () => {
    upstream = await startUpstream({ cores: undefined });
  });
  afterAll(async () => {
    await upstream?.stop();
  });
  return () => upstream!;
}

describe('the statistics (bench/stats.mjs)', () => {
  it('takes percentiles by nearest rank and medians as the middle value(s)', () => {
    const values = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('summarizes a soak-sized series without running out of stack', () => {
    const values = Array.from({ length: 400_000 }, (_, index) => index % 1000);
    const summary = summarize(values);
    expect(summary).toEqual({ count: 400_000, p50: 499, p90: 899, p99: 989, max: 999 });
  });

  it('fits a line and says how well it fits', () => {
    const xs = [0, 1, 2, 3, 4];
    const exact = linearRegression(
      xs,
      xs.map((x) => 3 + 2 * x),
    );
    expect(exact.slope).toBeCloseTo(2, 10);
    expect(exact.intercept).toBeCloseTo(3, 10);
    expect(exact.r2).toBeCloseTo(1, 10);
    const flat = linearRegression(xs, [5, 5, 5, 5, 5]);
    expect(flat).toEqual({ slope: 0, intercept: 5, r2: 0 });
  });
});

describe('the open-loop generator (bench/open-loop.mjs)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await close(server);
    server = undefined;
  });

  it('keeps sending while the server stalls, and charges the stall to every request scheduled in it', async () => {
    // Answers at once, except that everything arriving in a 400 ms window waits for its end: the
    // server stalls without blocking this process's event loop (the generator runs here too).
    let stallUntil = 0;
    let firstAt = 0;
    let received = 0;
    let receivedInStall = 0;
    const started = await listen((_request, response) => {
      const now = Date.now();
      if (received++ === 0) {
        firstAt = now;
        stallUntil = now + 500 + 400;
      }
      const wait = now >= firstAt + 500 && now < stallUntil ? stallUntil - now : 0;
      if (wait > 0) receivedInStall++;
      setTimeout(() => response.writeHead(200, JSON_HEADERS).end('{"ok":true}'), wait);
    });
    server = started.server;
    const result = await openLoop({
      target: { origin: started.origin, headers: JSON_HEADERS },
      rate: 200,
      durationMs: 1_500,
    });
    expect(result).toMatchObject({ scheduled: 300, sent: 300, ok: 300, errors: 0, saturated: false });
    expect(received).toBe(300);
    // A closed-loop client with its connections held would send next to nothing in the window;
    // this one sends on schedule: about 80 requests arrive during it.
    expect(receivedInStall).toBeGreaterThan(60);
    // Each waits for the window's end (up to 400 ms), some 60 of them 100 ms or more.
    expect(result.latency.p90).toBeGreaterThanOrEqual(100);
    expect(result.latency.max).toBeGreaterThanOrEqual(300);
    expect(result.latency.p50).toBeLessThan(100);
  });

  it('charges its own lateness to the requests it sends late, measured from their schedule', async () => {
    const started = await listen((_request, response) => {
      response.writeHead(200, JSON_HEADERS).end('{"ok":true}');
    });
    server = started.server;
    // Half a second in, this process's event loop is blocked for 400 ms: the requests due meanwhile
    // leave late, in a burst, and are answered at once.
    const blocker = setTimeout(() => {
      const until = Date.now() + 400;
      while (Date.now() < until);
    }, 500);
    try {
      const result = await openLoop({
        target: { origin: started.origin, headers: JSON_HEADERS },
        rate: 200,
        durationMs: 1_500,
      });
      expect(result).toMatchObject({ scheduled: 300, sent: 300, ok: 300, errors: 0 });
      // From the schedule, the 80 or so late requests carry their lateness (60 of them 100 ms or more)…
      expect(result.latency.p90).toBeGreaterThanOrEqual(100);
      expect(result.latency.max).toBeGreaterThanOrEqual(300);
      // …which a clock started at the send would hide.
      expect(result.serviceLatency.p90).toBeLessThan(100);
    } finally {
      clearTimeout(blocker);
    }
  });

  it('stops sending to a target that cannot keep up, and says so', async () => {
    const held: ServerResponse[] = [];
    const started = await listen((_request, response) => {
      held.push(response);
    });
    server = started.server;
    const release = setTimeout(() => {
      for (const response of held) response.writeHead(200, JSON_HEADERS).end('{}');
    }, 2_500);
    try {
      const result = await openLoop({
        target: { origin: started.origin, headers: JSON_HEADERS },
        rate: 100,
        durationMs: 4_000,
      });
      expect(result.saturated).toBe(true);
      expect(result.scheduled).toBe(400);
      // It stops once more than a second's worth (100) is outstanding, well before the 400.
      expect(result.sent).toBeLessThan(200);
      expect(result.sent).toBeGreaterThan(100);
      expect(result.ok).toBe(result.sent);
    } finally {
      clearTimeout(release);
    }
  });

  it('counts non-2xx answers as errors, not as latencies', async () => {
    const started = await listen((_request, response) => {
      response.writeHead(503, JSON_HEADERS).end('{"error":{"message":"busy"}}');
    });
    server = started.server;
    const result = await openLoop({
      target: { origin: started.origin, headers: JSON_HEADERS },
      rate: 100,
      durationMs: 300,
    });
    expect(result).toMatchObject({ scheduled: 30, ok: 0, errors: 30 });
    expect(result.firstErrors).toContain('HTTP 503');
    expect(result.latency.count).toBe(0);
  });
});

describe('the closed-loop round (bench/peak-throughput.mjs)', () => {
  const upstream = fakeUpstream();

  it('divides the requests by the time the round took', async () => {
    const started = performance.now();
    const result = await peakThroughput({ target: upstream(), connections: 4, durationS: 1 });
    const tookS = (performance.now() - started) / 1000;
    expect(result.ok).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    // autocannon's own clock for the round, within what the call took from outside
    expect(result.durationS).toBeGreaterThanOrEqual(1);
    expect(result.durationS).toBeLessThanOrEqual(tookS + 0.01);
    expect(result.requestsPerSecond).toBeCloseTo(result.ok / result.durationS, 6);
    expect(result.cpuMicrosPerRequest).toBeGreaterThan(0);
  });

  it('refuses a round that is not a whole number of seconds (autocannon would run it to the next)', async () => {
    await expect(peakThroughput({ target: upstream(), durationS: 1.5 })).rejects.toThrow(
      /whole number of seconds/,
    );
  });
});

describe('the stream scenario (bench/streams.mjs)', () => {
  const upstream = fakeUpstream();

  it('runs concurrent streams to their end and reads the target process tree', async () => {
    const result = await concurrentStreams({
      target: upstream(),
      upstream: upstream(),
      concurrency: 20,
      chunks: 5,
      delayMs: 5,
      rampMs: 50,
    });
    expect(result).toMatchObject({ concurrency: 20, ok: 20, errors: 0 });
    expect(result.ttftMs.count).toBe(20);
    expect(result.peakRssMb).toBeGreaterThan(10);
    expect(result.targetCpuSeconds).toBeGreaterThan(0);
  });

  it('counts a stream that ends without [DONE] as failed', async () => {
    const { server: truncating, origin } = await listen((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"choices":[{"index":0,"delta":{"content":"tok "}}]}\n\n');
      response.end();
    });
    try {
      const result = await concurrentStreams({
        target: { origin, headers: JSON_HEADERS, pid: process.pid },
        upstream: upstream(),
        concurrency: 5,
        chunks: 5,
        delayMs: 5,
        rampMs: 10,
      });
      expect(result).toMatchObject({ ok: 0, errors: 5 });
      expect(Object.keys(result.errorKinds)[0]).toMatch(/^HTTP 200 /);
    } finally {
      await close(truncating);
    }
  });
});
