import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import type { Probe } from './workloads.js';

/** Probe settings in milliseconds, already scaled. */
export interface ProbeTiming {
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
}

export function probeTiming(probe: Probe, scale: number): ProbeTiming {
  return {
    periodMs: (probe.periodSeconds ?? 10) * 1000 * scale,
    timeoutMs: (probe.timeoutSeconds ?? 1) * 1000 * scale,
    failureThreshold: probe.failureThreshold ?? 3,
    successThreshold: probe.successThreshold ?? 1,
  };
}

/** A "pod": one gantry process, its probe state as the kubelet would see it, and its endpoint state. */
export interface Pod {
  readonly name: string;
  readonly gantry: GantryProcess;
  /** The readiness the kubelet reports (after startup, per period/thresholds). */
  ready: boolean;
  /** Deleted: its endpoint is no longer published (after the propagation delay). */
  removedFromEndpoints: boolean;
  inflight: number;
  served: number;
  /** Requests in flight on this pod at the moment it got SIGTERM. */
  inflightAtSigterm: number;
  exitCode: number | string | null | undefined;
  /** The probe loop; rejects if the startup probe gives up. */
  probing: Promise<void>;
  stopProbing(): void;
}

async function probeOnce(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 400;
  } catch {
    return false;
  }
}

/**
 * Starts a pod and runs its probes as the kubelet does: the startup probe every period until it
 * succeeds (or failureThreshold is spent: the kubelet would restart the container, here an error),
 * then the readiness probe every period, Ready after successThreshold successes in a row and not
 * Ready after failureThreshold failures in a row.
 */
export async function startPod(
  name: string,
  configYaml: string,
  startup: ProbeTiming,
  readiness: ProbeTiming,
): Promise<Pod> {
  const gantry = await startGantry({ configYaml, noWait: true, env: { LOG_LEVEL: 'warn' } });
  let probing = true;
  const pod: Pod = {
    name,
    gantry,
    ready: false,
    removedFromEndpoints: false,
    inflight: 0,
    served: 0,
    inflightAtSigterm: 0,
    exitCode: undefined,
    probing: Promise.resolve(),
    stopProbing: () => {
      probing = false;
    },
  };
  void gantry.exited.then((code) => {
    pod.exitCode = code;
    pod.ready = false;
  });
  const run = async () => {
    let failures = 0;
    while (probing) {
      if (await probeOnce(`${gantry.url}/startup`, startup.timeoutMs)) break;
      if (++failures >= startup.failureThreshold) {
        throw new Error(`${name}: startup probe failed ${failures} times:\n${gantry.output()}`);
      }
      await sleep(startup.periodMs);
    }
    let successes = 0;
    failures = 0;
    while (probing) {
      if (await probeOnce(`${gantry.url}/ready`, readiness.timeoutMs)) {
        failures = 0;
        if (++successes >= readiness.successThreshold) pod.ready = true;
      } else {
        successes = 0;
        if (++failures >= readiness.failureThreshold) pod.ready = false;
      }
      await sleep(readiness.periodMs);
    }
  };
  pod.probing = run();
  pod.probing.catch(() => {}); // surfaced by waitUntilReady
  return pod;
}

/** Resolves when the pod is Ready; rejects if its startup probe gave up or the deadline passed. */
export async function waitUntilReady(pod: Pod, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!pod.ready) {
    await Promise.race([pod.probing, sleep(20)]);
    if (Date.now() > deadline) throw new Error(`${pod.name} not Ready after ${deadlineMs} ms`);
  }
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'host',
  'te',
  'trailer',
]);

function forwardable(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const result: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(key.toLowerCase())) result[key] = value;
  }
  return result;
}

/**
 * A small round-robin load balancer standing in for a Service plus ingress: it routes each request
 * to the next pod that is Ready and still published as an endpoint, and relays the response as it
 * streams. It never retries: a request that fails on a pod fails for the client, which is the point.
 */
export async function startLoadBalancer(pods: () => readonly Pod[]) {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  let next = 0;
  let noEndpoint = 0;
  const server: Server = createServer(async (clientRequest, clientResponse) => {
    const endpoints = pods().filter((pod) => pod.ready && !pod.removedFromEndpoints);
    if (endpoints.length === 0) {
      noEndpoint++;
      clientResponse.writeHead(503, { 'content-type': 'text/plain' }).end('no ready endpoints');
      return;
    }
    const pod = endpoints[next++ % endpoints.length]!;
    pod.inflight++;
    try {
      const upstreamResponse = await request(`${pod.gantry.url}${clientRequest.url}`, {
        method: clientRequest.method as 'GET' | 'POST',
        headers: forwardable(clientRequest.headers),
        body: clientRequest.method === 'GET' ? null : clientRequest,
        dispatcher: agent,
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      clientResponse.writeHead(upstreamResponse.statusCode, {
        ...forwardable(upstreamResponse.headers),
        'x-backend': pod.name,
      });
      await pipeline(upstreamResponse.body, clientResponse);
      pod.served++;
    } catch (error) {
      // Upstream connection refused or reset: a 502 if nothing was sent yet, else a cut stream.
      if (!clientResponse.headersSent) {
        clientResponse
          .writeHead(502, { 'content-type': 'text/plain', 'x-backend': pod.name })
          .end(String(error));
      } else {
        clientResponse.destroy(error as Error);
      }
    } finally {
      pod.inflight--;
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    noEndpointCount: () => noEndpoint,
    async close() {
      server.closeAllConnections();
      server.close();
      await agent.close();
    },
  };
}
