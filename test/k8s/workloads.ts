import type { Manifest } from './render-overlay.js';

/* Loose shapes of the parts of rendered objects the policy and consistency tests read. */
export interface Probe {
  httpGet?: { path: string; port: number | string };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
  initialDelaySeconds?: number;
}
export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number; hostPort?: number }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown } };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  priorityClassName?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext & { fsGroup?: number };
  topologySpreadConstraints?: {
    topologyKey: string;
    labelSelector?: { matchLabels?: Record<string, string> };
  }[];
  volumes?: {
    name: string;
    hostPath?: unknown;
    configMap?: { name: string };
    secret?: { secretName: string };
  }[];
}
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

/** A pod template and the object that owns it (Deployment, Job, or a CronJob's job template). */
export interface Workload {
  readonly owner: Manifest;
  readonly id: string;
  readonly template: PodTemplate;
}

export function workloads(manifests: readonly Manifest[]): Workload[] {
  return manifests.flatMap((owner): Workload[] => {
    const spec = owner.spec as { template: PodTemplate; jobTemplate: { spec: { template: PodTemplate } } };
    const id = `${owner.kind}/${owner.metadata.name}`;
    if (owner.kind === 'Deployment' || owner.kind === 'Job') return [{ owner, id, template: spec.template }];
    if (owner.kind === 'CronJob') return [{ owner, id, template: spec.jobTemplate.spec.template }];
    return [];
  });
}

export function containersOf(template: PodTemplate): Container[] {
  return [...(template.spec.initContainers ?? []), ...template.spec.containers];
}

/** Whether a label selector's matchLabels select a set of labels. */
export function selects(matchLabels: Record<string, string> | undefined, labels: Record<string, string>) {
  if (!matchLabels || Object.keys(matchLabels).length === 0) return false;
  return Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}
