import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { find, findOne, type Manifest, type OverlayName, renderOverlay } from './render-overlay.js';
import { containersOf, type PodTemplate, selects, type Workload, workloads } from './workloads.js';

/*
 * The rules of ../shared/k8s-checks.md (kube-score, Polaris, kube-linter defaults and a few opt-in
 * checks), numbered as there. They must hold for prod and the overlays built on it.
 *
 * Deliberate exceptions, each with its reason:
 * - Rule 3, CPU limit: no container has one. CFS throttling stalls a Node event loop, and with it
 *   every stream the pod is relaying; the CPU request gives the scheduler and HPA their baseline.
 * - Rules 5, 6 (probes) and 18 (spread) do not apply to Job/CronJob pods: they run to completion
 *   and take no traffic.
 * - Rule 27, priorityClassName: the migrations and maintenance pods keep the cluster default
 *   priority, so they are what gets preempted under pressure, not the gateway.
 * - gpu-inference, vLLM: one replica (GPU capacity is planned, not autoscaled; Gantry falls back to
 *   a hosted model while it is down), hence no PodDisruptionBudget (maxUnavailable 1 of 1 protects
 *   nothing, minAvailable 1 would block every node drain) and no spread constraints (rules 16-18).
 */
const NO_CPU_LIMIT = 'CPU limits throttle the event loop (see the header)';
const SINGLE_REPLICA_GPU = new Set(['Deployment/vllm']);

const OVERLAYS_UNDER_POLICY: OverlayName[] = ['prod', 'keda', 'monitoring', 'gpu-inference'];
const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|API_KEY|MASTER_KEY|DATABASE_URL|REDIS_URL|CREDENTIALS?)$/i;
const ALLOWED_API_VERSIONS = new Set([
  'v1',
  'apps/v1',
  'batch/v1',
  'policy/v1',
  'autoscaling/v2',
  'networking.k8s.io/v1',
  'scheduling.k8s.io/v1',
  'keda.sh/v1alpha1',
  'monitoring.coreos.com/v1',
  'cert-manager.io/v1',
  'gateway.networking.k8s.io/v1',
]);

const isServing = (workload: Workload) => workload.owner.kind === 'Deployment';
const podSecurity = (template: PodTemplate) => template.spec.securityContext ?? {};

describe.each(OVERLAYS_UNDER_POLICY)('k8s-checks on the %s overlay', (overlay) => {
  const manifests = renderOverlay(overlay);
  const all = workloads(manifests);
  const autoscaled = new Set(
    [
      ...find(manifests, 'HorizontalPodAutoscaler').map(
        (hpa) => (hpa.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name,
      ),
      ...find(manifests, 'ScaledObject').map(
        (scaled) => (scaled.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name,
      ),
    ].map((name) => `Deployment/${name}`),
  );

  it('has the workloads it should', () => {
    expect(all.map((workload) => workload.id)).toEqual(
      expect.arrayContaining(['Deployment/gantry', 'Job/gantry-migrate', 'CronJob/gantry-maintenance']),
    );
  });

  it('1-2: images pinned to a tag (never latest) with an explicit pull policy', () => {
    for (const { id, template } of all) {
      for (const container of containersOf(template)) {
        const where = `${id}/${container.name}`;
        const tag = /:([^/:@]+)$/.exec(container.image)?.[1];
        const digest = container.image.includes('@sha256:');
        expect(digest || (tag !== undefined && tag !== 'latest'), `${where}: ${container.image}`).toBe(true);
        expect(container.imagePullPolicy, where).toMatch(/^(IfNotPresent|Always|Never)$/);
      }
    }
  });

  it('3-4: CPU and memory requests, memory limit, ephemeral-storage request and limit', () => {
    for (const { id, template } of all) {
      for (const container of containersOf(template)) {
        const where = `${id}/${container.name}`;
        const { requests = {}, limits = {} } = container.resources ?? {};
        for (const resource of ['cpu', 'memory', 'ephemeral-storage'])
          expect(requests[resource], `${where} requests.${resource}`).toBeTruthy();
        for (const resource of ['memory', 'ephemeral-storage'])
          expect(limits[resource], `${where} limits.${resource}`).toBeTruthy();
        expect(limits.cpu, `${where}: ${NO_CPU_LIMIT}`).toBeUndefined();
      }
    }
  });

  it('5-6: readiness, liveness (different from readiness) and startup probes on exposed ports', () => {
    for (const { id, template } of all.filter(isServing)) {
      for (const container of template.spec.containers) {
        const where = `${id}/${container.name}`;
        const ports = new Set(
          (container.ports ?? []).flatMap((port) => [port.name, port.containerPort]).filter(Boolean),
        );
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
          const httpGet = container[probe]?.httpGet;
          expect(httpGet, `${where} ${probe}`).toBeDefined();
          expect(ports.has(httpGet!.port), `${where} ${probe} port ${httpGet!.port}`).toBe(true);
        }
        expect(container.livenessProbe).not.toEqual(container.readinessProbe);
        expect(container.livenessProbe!.httpGet!.path).not.toBe(container.readinessProbe!.httpGet!.path);
      }
    }
  });

  it('7-13: hardened security contexts, nothing from the host', () => {
    for (const { id, template } of all) {
      const pod = podSecurity(template);
      expect(template.spec.hostNetwork ?? false, id).toBe(false);
      expect(template.spec.hostPID ?? false, id).toBe(false);
      expect(template.spec.hostIPC ?? false, id).toBe(false);
      expect((template.spec.volumes ?? []).filter((volume) => volume.hostPath)).toEqual([]);
      for (const container of containersOf(template)) {
        const where = `${id}/${container.name}`;
        const security = { ...pod, ...container.securityContext };
        expect(security.readOnlyRootFilesystem, `${where} readOnlyRootFilesystem`).toBe(true);
        expect(security.runAsNonRoot, `${where} runAsNonRoot`).toBe(true);
        expect(security.runAsUser, `${where} runAsUser`).toBeGreaterThanOrEqual(10_000);
        expect(security.runAsGroup, `${where} runAsGroup`).toBeGreaterThanOrEqual(10_000);
        expect(security.privileged ?? false, `${where} privileged`).toBe(false);
        expect(container.securityContext?.allowPrivilegeEscalation, `${where} escalation`).toBe(false);
        expect(container.securityContext?.capabilities?.drop, `${where} drop`).toEqual(['ALL']);
        expect(container.securityContext?.capabilities?.add ?? [], `${where} add`).toEqual([]);
        expect(security.seccompProfile?.type, `${where} seccomp`).toBe('RuntimeDefault');
        expect((container.ports ?? []).filter((port) => port.hostPort)).toEqual([]);
      }
    }
  });

  it('14: own ServiceAccount that exists; token not automounted', () => {
    const accounts = new Map(find(manifests, 'ServiceAccount').map((item) => [item.metadata.name, item]));
    for (const { id, template } of all) {
      if (SINGLE_REPLICA_GPU.has(id)) {
        // vLLM runs under the namespace default account on purpose, with no token at all.
        expect(template.spec.automountServiceAccountToken, id).toBe(false);
        continue;
      }
      const name = template.spec.serviceAccountName;
      expect(name, id).toBeDefined();
      expect(name).not.toBe('default');
      expect(accounts.has(name!), `${id}: ServiceAccount ${name} is rendered`).toBe(true);
      expect(template.spec.automountServiceAccountToken, id).toBe(false);
      expect(accounts.get(name!)!.automountServiceAccountToken).toBe(false);
    }
  });

  it('15: every pod is selected by a NetworkPolicy that restricts ingress and egress', () => {
    const policies = find(manifests, 'NetworkPolicy').map(
      (policy) =>
        policy.spec as { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[] },
    );
    for (const { id, template } of all) {
      const covering = policies.filter((policy) =>
        selects(policy.podSelector.matchLabels, template.metadata.labels),
      );
      const types = new Set(covering.flatMap((policy) => policy.policyTypes));
      expect([...types].sort(), id).toEqual(['Egress', 'Ingress']);
    }
  });

  it('16, 19: autoscaled Deployments omit replicas; HPA targets exist, min >= 2, max > min', () => {
    const gantry = findOne(manifests, 'Deployment', 'gantry');
    expect(autoscaled.has('Deployment/gantry')).toBe(true);
    expect((gantry.spec as { replicas?: number }).replicas).toBeUndefined();
    for (const hpa of find(manifests, 'HorizontalPodAutoscaler')) {
      const spec = hpa.spec as {
        minReplicas: number;
        maxReplicas: number;
        scaleTargetRef: { kind: string; name: string };
      };
      expect(find(manifests, spec.scaleTargetRef.kind, spec.scaleTargetRef.name)).toHaveLength(1);
      expect(spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(spec.maxReplicas).toBeGreaterThan(spec.minReplicas);
    }
    for (const scaled of find(manifests, 'ScaledObject')) {
      const spec = scaled.spec as {
        minReplicaCount: number;
        maxReplicaCount: number;
        scaleTargetRef: { name: string };
      };
      expect(find(manifests, 'Deployment', spec.scaleTargetRef.name)).toHaveLength(1);
      expect(spec.minReplicaCount).toBeGreaterThanOrEqual(2);
      expect(spec.maxReplicaCount).toBeGreaterThan(spec.minReplicaCount);
    }
    // Exactly one autoscaler per Deployment: an HPA and a ScaledObject would fight over replicas.
    const targets = [...find(manifests, 'HorizontalPodAutoscaler'), ...find(manifests, 'ScaledObject')].map(
      (item) => (item.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name,
    );
    expect(new Set(targets).size).toBe(targets.length);
    for (const { id } of all.filter(isServing)) {
      if (SINGLE_REPLICA_GPU.has(id)) continue;
      expect(autoscaled.has(id), `${id} is autoscaled`).toBe(true);
    }
  });

  it('17: a sane PodDisruptionBudget with unhealthyPodEvictionPolicy AlwaysAllow', () => {
    const budgets = find(manifests, 'PodDisruptionBudget').map(
      (pdb) =>
        pdb.spec as {
          maxUnavailable?: number;
          minAvailable?: number;
          unhealthyPodEvictionPolicy?: string;
          selector: { matchLabels: Record<string, string> };
        },
    );
    for (const { id, template } of all.filter(isServing)) {
      if (SINGLE_REPLICA_GPU.has(id)) continue;
      const covering = budgets.filter((pdb) => selects(pdb.selector.matchLabels, template.metadata.labels));
      expect(covering, id).toHaveLength(1);
      const [pdb] = covering;
      expect(pdb!.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
      expect(pdb!.minAvailable).toBeUndefined();
      expect(pdb!.maxUnavailable).toBeGreaterThanOrEqual(1);
    }
  });

  it('18: spread across nodes and zones', () => {
    for (const { id, template } of all.filter(isServing)) {
      if (SINGLE_REPLICA_GPU.has(id)) continue;
      const constraints = template.spec.topologySpreadConstraints ?? [];
      expect(constraints.map((constraint) => constraint.topologyKey).sort(), id).toEqual([
        'kubernetes.io/hostname',
        'topology.kubernetes.io/zone',
      ]);
      for (const constraint of constraints)
        expect(selects(constraint.labelSelector?.matchLabels, template.metadata.labels)).toBe(true);
    }
  });

  it('20: Services, Ingress and HTTPRoute wire up to pods and ports that exist; no NodePort', () => {
    const services = find(manifests, 'Service');
    for (const service of services) {
      const spec = service.spec as {
        type?: string;
        selector: Record<string, string>;
        ports: { name: string; port: number; targetPort: string | number }[];
      };
      expect(spec.type ?? 'ClusterIP').toBe('ClusterIP');
      const targets = all.filter(({ template }) => selects(spec.selector, template.metadata.labels));
      expect(
        targets.map((target) => target.id),
        service.metadata.name,
      ).toHaveLength(1);
      const ports = targets[0]!.template.spec.containers.flatMap((container) => container.ports ?? []);
      for (const port of spec.ports)
        expect(ports.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort)).toBe(
          true,
        );
    }
    for (const { owner, template } of all.filter(isServing)) {
      const selector = (owner.spec as { selector: { matchLabels: Record<string, string> } }).selector;
      expect(selects(selector.matchLabels, template.metadata.labels)).toBe(true);
    }
    const servicePort = (name: string, port: string | number) =>
      services.some(
        (service) =>
          service.metadata.name === name &&
          (service.spec as { ports: { name: string; port: number }[] }).ports.some(
            (candidate) => candidate.name === port || candidate.port === port,
          ),
      );
    for (const ingress of find(manifests, 'Ingress')) {
      const spec = ingress.spec as {
        rules: {
          http: {
            paths: { backend: { service: { name: string; port: { name?: string; number?: number } } } }[];
          };
        }[];
      };
      for (const path of spec.rules.flatMap((rule) => rule.http.paths)) {
        const { name, port } = path.backend.service;
        expect(servicePort(name, port.name ?? port.number!), `Ingress → ${name}`).toBe(true);
      }
    }
    for (const route of find(manifests, 'HTTPRoute')) {
      const spec = route.spec as { rules: { backendRefs: { name: string; port: number }[] }[] };
      for (const backend of spec.rules.flatMap((rule) => rule.backendRefs))
        expect(servicePort(backend.name, backend.port), `HTTPRoute → ${backend.name}`).toBe(true);
    }
  });

  it('21: RollingUpdate with maxUnavailable 0', () => {
    for (const { id, owner } of all.filter(isServing)) {
      const strategy = (owner.spec as { strategy: { type: string; rollingUpdate: Record<string, unknown> } })
        .strategy;
      expect(strategy.type, id).toBe('RollingUpdate');
      expect(strategy.rollingUpdate.maxUnavailable, id).toBe(0);
      expect(strategy.rollingUpdate.maxSurge, id).toBe(1);
    }
  });

  it('22-23: no secret values in env literals or ConfigMaps; no duplicate env names', () => {
    for (const { id, template } of all) {
      for (const container of containersOf(template)) {
        const names = (container.env ?? []).map((variable) => variable.name);
        expect(new Set(names).size, `${id}/${container.name} duplicate env`).toBe(names.length);
        for (const variable of container.env ?? []) {
          if (SECRET_NAME.test(variable.name)) {
            expect(variable.value, `${id} ${variable.name} is a literal`).toBeUndefined();
          }
        }
      }
    }
    for (const configMap of find(manifests, 'ConfigMap')) {
      for (const [key, text] of Object.entries((configMap.data ?? {}) as Record<string, string>)) {
        const where = `ConfigMap ${configMap.metadata.name} ${key}`;
        expect(text, where).not.toMatch(/\b(sk|sk-ant|sk-proj)-[A-Za-z0-9_-]{8,}/);
        expect(text, `${where}: URL with credentials`).not.toMatch(/:\/\/[^/\s:@]+:[^/\s@]+@/);
        if (key.endsWith('.yaml')) {
          for (const [path, value] of secretSettings(parseYaml(text))) {
            expect(value, `${where} ${path} must be a file: or env: reference`).toMatch(/^(file|env):/);
          }
        }
      }
    }
  });

  it('24: no deprecated or unknown apiVersions', () => {
    for (const manifest of manifests)
      expect(ALLOWED_API_VERSIONS.has(manifest.apiVersion), manifest.apiVersion).toBe(true);
  });

  it('25: every Ingress host is covered by TLS', () => {
    for (const ingress of find(manifests, 'Ingress')) {
      const spec = ingress.spec as {
        tls: { hosts: string[]; secretName: string }[];
        rules: { host: string }[];
      };
      const covered = new Set(spec.tls.flatMap((tls) => tls.hosts));
      for (const rule of spec.rules) expect(covered.has(rule.host), rule.host).toBe(true);
      // The TLS Secret is issued by a cert-manager Certificate in the same render.
      for (const tls of spec.tls) {
        expect(
          find(manifests, 'Certificate').some(
            (certificate) => (certificate.spec as { secretName: string }).secretName === tls.secretName,
          ),
        ).toBe(true);
      }
    }
  });

  it('26: Jobs have ttlSecondsAfterFinished and a backoffLimit', () => {
    const jobs = [
      ...find(manifests, 'Job').map((job) => job.spec),
      ...find(manifests, 'CronJob').map(
        (cron) => (cron.spec as { jobTemplate: { spec: unknown } }).jobTemplate.spec,
      ),
    ] as { ttlSecondsAfterFinished?: number; backoffLimit?: number }[];
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    for (const job of jobs) {
      expect(job.ttlSecondsAfterFinished).toBeGreaterThan(0);
      expect(job.backoffLimit).toBeGreaterThanOrEqual(0);
    }
  });

  it('27: serving pods have a priorityClassName that exists', () => {
    const classes = new Set(find(manifests, 'PriorityClass').map((item) => item.metadata.name));
    for (const { id, template } of all.filter(isServing)) {
      expect(classes.has(template.spec.priorityClassName ?? ''), id).toBe(true);
    }
  });

  it('28: no RBAC at all (Gantry never calls the Kubernetes API)', () => {
    const rbac = manifests.filter((item: Manifest) =>
      item.apiVersion.startsWith('rbac.authorization.k8s.io'),
    );
    expect(rbac).toEqual([]);
  });

  it('29: every ServiceMonitor selects a rendered Service with the named port', () => {
    for (const monitor of find(manifests, 'ServiceMonitor')) {
      const spec = monitor.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string }[];
      };
      const targets = find(manifests, 'Service').filter((service) =>
        selects(spec.selector.matchLabels, (service.metadata.labels ?? {}) as Record<string, string>),
      );
      expect(targets.length, monitor.metadata.name).toBe(1);
      const ports = (targets[0]!.spec as { ports: { name: string }[] }).ports.map((port) => port.name);
      for (const endpoint of spec.endpoints) expect(ports).toContain(endpoint.port);
    }
    if (overlay === 'monitoring') expect(find(manifests, 'ServiceMonitor')).toHaveLength(1);
  });
});

/** Settings in a Gantry config file that hold secrets (api_key, master_key, URLs with passwords). */
function secretSettings(document: unknown, path = ''): [string, string][] {
  if (document === null || typeof document !== 'object') return [];
  return Object.entries(document as Record<string, unknown>).flatMap(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    if (typeof value === 'string' && /^(api_key|master_key|password|token)$/.test(key))
      return [[here, value] as [string, string]];
    return secretSettings(value, here);
  });
}
