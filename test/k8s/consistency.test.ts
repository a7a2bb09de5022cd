import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import { loadPodConfig } from './pod-config.js';
import { find, findOne, K8S_ROOT, type Manifest, OVERLAYS, renderOverlay } from './render-overlay.js';
import { type Container, containersOf, type PodTemplate, type Probe, workloads } from './workloads.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
/** Seconds kept between Gantry's own deadline and the kubelet's SIGKILL (flushing logs, usage). */
const MIN_MARGIN_SECONDS = 10;

function gantryContainers(manifests: readonly Manifest[]) {
  return workloads(manifests).flatMap(({ id, template }) =>
    containersOf(template)
      .filter((container) => container.command?.join(' ') === 'node dist/cli/main.js')
      .map((container) => ({ id, template, container })),
  );
}

function gateway(manifests: readonly Manifest[]) {
  const deployment = findOne(manifests, 'Deployment', 'gantry');
  const template = (deployment.spec as { template: PodTemplate }).template;
  const container = template.spec.containers.find((candidate) => candidate.name === 'gantry')!;
  return { template, container };
}

describe.each(OVERLAYS)('%s: manifests agree with the app', (overlay) => {
  const manifests = renderOverlay(overlay);

  it("every Gantry container's configuration passes the app's own loadConfig", () => {
    const containers = gantryContainers(manifests);
    expect(containers.length).toBeGreaterThan(0);
    for (const { template, container } of containers) {
      const { config } = loadPodConfig(manifests, template, container);
      expect(config.models.length).toBeGreaterThan(0);
    }
  });

  it('the gateway listens on the port its probes, Service and scrape annotation use', () => {
    const { template, container } = gateway(manifests);
    const { config } = loadPodConfig(manifests, template, container);
    const http = container.ports!.find((port) => port.name === 'http')!;
    expect(http.containerPort).toBe(config.server.port);
    expect(config.server.host).toBe('0.0.0.0');
    expect(template.metadata.annotations?.['prometheus.io/port']).toBe(String(config.server.port));
    expect(template.metadata.annotations?.['prometheus.io/path']).toBe('/metrics');
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe])
      expect(probe?.httpGet?.port).toBe('http');
  });

  it('terminationGracePeriodSeconds >= preStop sleep + shutdown.delay + shutdown.timeout + margin', () => {
    const { template, container } = gateway(manifests);
    const { config } = loadPodConfig(manifests, template, container);
    const preStop = container.lifecycle?.preStop?.sleep?.seconds;
    expect(preStop).toBeGreaterThan(0);
    const needed = preStop! + (config.shutdown.delay + config.shutdown.timeout) / 1000 + MIN_MARGIN_SECONDS;
    expect(template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed);
  });

  it('the config is mounted as a directory (hot reload sees ConfigMap ..data swaps), not subPath', () => {
    for (const { container } of gantryContainers(manifests)) {
      const configMount = container.volumeMounts!.find((mount) => mount.mountPath === '/etc/gantry');
      expect(configMount?.subPath).toBeUndefined();
    }
  });

  it('every Gantry container runs a command the CLI has, and all run the same image', () => {
    const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    const commands = new Set(
      [...help.slice(help.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]),
    );
    expect(commands).toContain('serve');
    const containers = gantryContainers(manifests);
    const missing = containers
      .map(({ id, container }: { id: string; container: Container }) => [id, container.args?.[0]])
      .filter(([, command]) => !commands.has(command!));
    expect(missing, `commands the built CLI does not have: ${JSON.stringify(missing)}`).toEqual([]);
    expect(new Set(containers.map(({ container }) => container.image)).size).toBe(1);
  });

  it("Ingress and HTTPRoute timeouts outlast Gantry's own whole-request timeout", () => {
    const { template, container } = gateway(manifests);
    const { config } = loadPodConfig(manifests, template, container);
    const totalSeconds =
      Math.max(...config.models.flatMap((model) => model.deployments.map((d) => d.timeouts.total))) / 1000;
    for (const ingress of find(manifests, 'Ingress')) {
      const annotations = ingress.metadata.annotations as Record<string, string>;
      for (const key of ['proxy-read-timeout', 'proxy-send-timeout'])
        expect(Number(annotations[`nginx.ingress.kubernetes.io/${key}`])).toBeGreaterThan(totalSeconds);
      expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
      expect(annotations['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
      const bodyMiB = Number(
        /^(\d+)m$/.exec(annotations['nginx.ingress.kubernetes.io/proxy-body-size']!)![1],
      );
      expect(bodyMiB * 1024 * 1024).toBeGreaterThanOrEqual(config.server.body_limit);
    }
    for (const route of find(manifests, 'HTTPRoute')) {
      const rules = (route.spec as { rules: { timeouts: { request: string; backendRequest: string } }[] })
        .rules;
      for (const { timeouts } of rules) {
        expect(Number.parseInt(timeouts.request, 10)).toBeGreaterThan(totalSeconds);
        expect(Number.parseInt(timeouts.backendRequest, 10)).toBeGreaterThan(totalSeconds);
      }
    }
  });
});

/** Every metric name an autoscaler, alert or dashboard panel refers to, with where it is used. */
function referencedMetrics(): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  const add = (text: string, where: string) => {
    for (const [name] of text.matchAll(/\bgantry_[a-z0-9_]+/g)) {
      names.set(name, (names.get(name) ?? new Set()).add(where));
    }
  };
  for (const hpa of find(renderOverlay('prod'), 'HorizontalPodAutoscaler')) {
    const metrics = (hpa.spec as { metrics: { pods?: { metric: { name: string } } }[] }).metrics;
    for (const metric of metrics) if (metric.pods) add(metric.pods.metric.name, 'HPA');
  }
  for (const scaled of find(renderOverlay('keda'), 'ScaledObject')) {
    for (const trigger of (scaled.spec as { triggers: { metadata: { query: string } }[] }).triggers)
      add(trigger.metadata.query, 'KEDA');
  }
  for (const rule of find(renderOverlay('monitoring'), 'PrometheusRule'))
    add(JSON.stringify(rule.spec), 'PrometheusRule');
  add(readFileSync(`${K8S_ROOT}overlays/monitoring/gantry-dashboard.json`, 'utf8'), 'dashboard');
  const [dashboardConfigMap] = find(renderOverlay('monitoring'), 'ConfigMap', 'gantry-grafana-dashboard');
  add(JSON.stringify(dashboardConfigMap?.data ?? {}), 'dashboard ConfigMap');
  return names;
}

describe('metrics named by the HPA, KEDA, alert rules and dashboard exist on /metrics', () => {
  let gantry: GantryProcess;
  let exposition = '';

  beforeAll(async () => {
    gantry = await startGantry({ readyTimeoutMs: 50_000 });
    // Labelled series only appear once something was counted: one answer and one stream.
    for (const stream of [false, true]) {
      const response = await fetch(`${gantry.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock', stream, messages: [{ role: 'user', content: 'hello' }] }),
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    exposition = await (await fetch(`${gantry.url}/metrics`)).text();
  });

  afterAll(async () => {
    await gantry?.stop();
  });

  it('the probe paths the manifests use exist and pass as the kubelet judges them', async () => {
    const { container } = gateway(renderOverlay('prod'));
    // As the kubelet would: a probe fails only after failureThreshold consecutive failures, one
    // period apart (periods capped at 1 s here: the question is whether the path answers 200, and
    // this machine is shared, so a single sample may land in a scheduling stall).
    const passes = async (probe: Probe) => {
      for (let attempt = 0; attempt < probe.failureThreshold!; attempt++) {
        const status = await fetch(`${gantry.url}${probe.httpGet!.path}`).then(
          (response) => response.status,
          () => 0, // connection refused or reset: a failed probe, as for the kubelet
        );
        if (status === 200) return true;
        await new Promise((resolve) => setTimeout(resolve, Math.min(probe.periodSeconds! * 1000, 1000)));
      }
      return false;
    };
    for (const probe of [container.startupProbe!, container.readinessProbe!, container.livenessProbe!])
      expect(await passes(probe), `${probe.httpGet!.path}\n${gantry.output().slice(-2000)}`).toBe(true);
  }, 120_000);

  it('every referenced metric is a real metric family (histogram suffixes allowed)', () => {
    const families = new Map(
      [...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1]!, match[2]!]),
    );
    const referenced = referencedMetrics();
    expect([...referenced.keys()]).toEqual(
      expect.arrayContaining([
        'gantry_inflight_requests',
        'gantry_queue_depth',
        'gantry_ttft_seconds_bucket',
      ]),
    );
    const missing: string[] = [];
    for (const [name, places] of referenced) {
      const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
      const exists =
        families.has(name) || (histogram !== null && families.get(histogram[1]!) === 'histogram');
      if (!exists) missing.push(`${name} (used by ${[...places].join(', ')})`);
    }
    expect(missing).toEqual([]);
  });
});
