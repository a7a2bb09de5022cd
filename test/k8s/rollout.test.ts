import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPodConfig } from './pod-config.js';
import { findOne, renderOverlay } from './render-overlay.js';
import { type Pod, probeTiming, startLoadBalancer, startPod, waitUntilReady } from './rollout-harness.js';
import type { PodTemplate } from './workloads.js';

/*
 * A RollingUpdate of the prod Deployment, simulated with real processes (there is no cluster here).
 * Every timing comes from the rendered manifests and the pod's own config file, divided by SCALE_DOWN
 * so that the rollout takes seconds instead of minutes: probe periods and timeouts, the preStop
 * sleep, terminationGracePeriodSeconds, shutdown.delay and shutdown.timeout alike. What the
 * simulation assumes of Kubernetes (documented behaviour, not measured here):
 * - maxSurge 1 / maxUnavailable 0: a new pod is created, and an old one deleted only once the new
 *   one is Ready; terminating pods do not count against the surge, so the next new pod starts at once.
 * - On deletion, the endpoint is withdrawn (after ENDPOINT_PROPAGATION_S, the time kube-proxy and
 *   ingress controllers take to notice) while, in parallel, preStop runs; SIGTERM follows preStop;
 *   SIGKILL comes at terminationGracePeriodSeconds counted from the start of preStop.
 * The mock upstream makes streams last ~3 s, so at every SIGTERM some are mid-flight. On an idle
 * machine the whole test takes about 30 s; on a heavily shared one, process start-up stretches it.
 */
const SCALE_DOWN = 5;
const SCALE = 1 / SCALE_DOWN;
/** Seconds (unscaled) before a deleted pod's endpoint stops receiving new connections. */
const ENDPOINT_PROPAGATION_S = 3;
const REPLICAS = 3;
const CLIENTS = 12;
const WORDS = 30;

const manifests = renderOverlay('prod');
const deployment = findOne(manifests, 'Deployment', 'gantry');
const deploymentSpec = deployment.spec as {
  strategy: { rollingUpdate: { maxSurge: number; maxUnavailable: number } };
  template: PodTemplate;
};
const template = deploymentSpec.template;
const container = template.spec.containers.find((candidate) => candidate.name === 'gantry')!;
const { config } = loadPodConfig(manifests, template, container);

// The startup probe keeps its scaled period but its full unscaled budget (period x threshold): how
// long a node process takes to start on a shared test machine is not what the manifests decide.
const scaledStartup = probeTiming(container.startupProbe!, SCALE);
const startup = { ...scaledStartup, failureThreshold: scaledStartup.failureThreshold * SCALE_DOWN };
const readiness = probeTiming(container.readinessProbe!, SCALE);
const preStopMs = container.lifecycle!.preStop!.sleep!.seconds * 1000 * SCALE;
const graceMs = template.spec.terminationGracePeriodSeconds! * 1000 * SCALE;
const propagationMs = ENDPOINT_PROPAGATION_S * 1000 * SCALE;

// The processes run the prod file's lifecycle settings (scaled) with the mock provider in place of
// OpenAI: 30 words 80 ms apart after 300 ms to the first token, ~2.7 s per stream.
const podConfig = `
app: { mode: dev, default_model: mock }
logging: { access_log: false }
shutdown:
  delay: ${Math.round(config.shutdown.delay * SCALE)}ms
  timeout: ${Math.round(config.shutdown.timeout * SCALE)}ms
models:
  - alias: mock
    deployments:
      - provider: mock
        model: mock
        mock: { ttft: 300ms, chunk_delay: 80ms, words: ${WORDS} }
`;

interface Outcome {
  readonly stream: boolean;
  readonly ok: boolean;
  readonly detail: string;
  readonly backend: string | undefined;
}

/** One client request through the load balancer; a stream is whole only if it ends with [DONE]. */
async function call(url: string, agent: Agent, stream: boolean, index: number): Promise<Outcome> {
  let backend: string | undefined;
  try {
    const response = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', stream, messages: [{ role: 'user', content: `hi ${index}` }] }),
    });
    backend = response.headers['x-backend'] as string | undefined;
    const text = await response.body.text();
    if (response.statusCode !== 200)
      return { stream, ok: false, backend, detail: `${response.statusCode} ${text.slice(0, 200)}` };
    if (!stream) {
      const content = JSON.parse(text).choices?.[0]?.message?.content as string | undefined;
      return { stream, ok: (content?.split(' ').length ?? 0) === WORDS, backend, detail: text.slice(0, 200) };
    }
    const events = text.split('\n\n').filter(Boolean);
    const done = events.at(-1) === 'data: [DONE]';
    const errored = events.some((event) => event.includes('"error"'));
    const words = events
      .filter((event) => event.startsWith('data: {'))
      .map((event) => JSON.parse(event.slice(6)).choices?.[0]?.delta?.content ?? '')
      .join('')
      .trim()
      .split(' ').length;
    return {
      stream,
      ok: done && !errored && words === WORDS,
      backend,
      detail: `done=${done} errored=${errored} words=${words} tail=${JSON.stringify(text.slice(-120))}`,
    };
  } catch (error) {
    return { stream, ok: false, backend, detail: `client error: ${(error as Error).message}` };
  }
}

describe('rolling update of the prod Deployment with real processes', () => {
  const pods: Pod[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const pod of pods) pod.stopProbing();
    await Promise.all(pods.map((pod) => pod.gantry.stop('SIGKILL')));
    for (const cleanup of cleanups) await cleanup();
  });

  it('replaces 3 pods one by one under streaming load: no failed request, no truncated stream', async () => {
    // The strategy this simulation encodes is the one rendered.
    expect(deploymentSpec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(propagationMs).toBeLessThan(preStopMs);

    const startupBudgetMs = startup.periodMs * startup.failureThreshold + 30_000;
    let serial = 0;
    const launch = async (revision: string) => {
      const pod = await startPod(`${revision}-${serial++}`, podConfig, startup, readiness);
      pods.push(pod);
      return pod;
    };
    const initial = await Promise.all(Array.from({ length: REPLICAS }, () => launch('old')));
    await Promise.all(initial.map((pod) => waitUntilReady(pod, startupBudgetMs)));

    const balancer = await startLoadBalancer(() => pods);
    cleanups.push(() => balancer.close());
    const clientAgent = new Agent({ connections: CLIENTS * 2 });
    cleanups.push(() => clientAgent.close());

    // Mixed load for the whole rollout: each client alternates streaming and non-streaming calls.
    const outcomes: Outcome[] = [];
    let loadRunning = true;
    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      for (let round = 0; loadRunning; round++) {
        outcomes.push(
          await call(balancer.url, clientAgent, (client + round) % 3 !== 0, client * 1000 + round),
        );
      }
    });
    await sleep(1500);

    const terminations: Promise<void>[] = [];
    const deletePod = async (pod: Pod) => {
      const deletedAt = Date.now();
      // A client that reached the pod just before its deletion (a kept-alive connection): its stream
      // (~2.7 s) is still running when SIGTERM comes after preStop (2 s), whatever the round robin
      // happened to send there, so every drain really has a stream to finish.
      pod.inflight++;
      const lastClient = call(pod.gantry.url, clientAgent, true, -1 - serial).then((outcome) => {
        pod.inflight--;
        outcomes.push(outcome);
      });
      const withdrawn = sleep(propagationMs).then(() => {
        pod.removedFromEndpoints = true;
      });
      await sleep(preStopMs); // lifecycle.preStop.sleep: still serving what the endpoint sends
      pod.inflightAtSigterm = pod.inflight;
      pod.stopProbing();
      pod.gantry.child.kill('SIGTERM');
      const killAt = deletedAt + graceMs;
      const graceOver = sleep(Math.max(0, killAt - Date.now())).then(() => 'grace period over' as const);
      const result = await Promise.race([pod.gantry.exited, graceOver]);
      if (result === 'grace period over') {
        pod.exitCode = 'SIGKILL at terminationGracePeriodSeconds';
        pod.gantry.child.kill('SIGKILL');
      }
      await Promise.all([withdrawn, lastClient]);
    };

    for (const old of initial) {
      const fresh = await launch('new');
      await waitUntilReady(fresh, startupBudgetMs);
      terminations.push(deletePod(old));
    }
    await Promise.all(terminations);
    await sleep(1500);
    loadRunning = false;
    await Promise.all(clients);

    const failures = outcomes.filter((outcome) => !outcome.ok);
    const streams = outcomes.filter((outcome) => outcome.stream);
    const report = pods.map((pod) => ({
      pod: pod.name,
      served: pod.served,
      inflightAtSigterm: pod.inflightAtSigterm,
      exit: pod.exitCode,
    }));
    expect(failures, JSON.stringify({ failures: failures.slice(0, 10), report }, null, 2)).toEqual([]);
    expect(balancer.noEndpointCount()).toBe(0);
    // The rollout happened under real load and really drained: every old pod exited 0 within the
    // grace period while it still had requests in flight, and the new pods took over the traffic.
    expect(streams.length).toBeGreaterThanOrEqual(30);
    expect(outcomes.length - streams.length).toBeGreaterThanOrEqual(10);
    for (const old of initial) expect(old.exitCode, JSON.stringify(report)).toBe(0);
    for (const old of initial) expect(old.inflightAtSigterm, JSON.stringify(report)).toBeGreaterThan(0);
    for (const fresh of pods.filter((pod) => pod.name.startsWith('new')))
      expect(fresh.served, JSON.stringify(report)).toBeGreaterThan(0);
  }, 240_000);
});
