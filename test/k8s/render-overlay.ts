import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object, as plain data. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; [key: string]: unknown };
  readonly [key: string]: unknown;
}

export const K8S_ROOT = fileURLToPath(new URL('../../deploy/k8s/', import.meta.url));
export const OVERLAYS = ['dev', 'prod', 'keda', 'monitoring', 'gpu-inference'] as const;
export type OverlayName = (typeof OVERLAYS)[number];

const cache = new Map<string, Manifest[]>();

/** Renders a kustomization with the real `kubectl kustomize` and parses every document. */
export function renderKustomization(relativePath: string): Manifest[] {
  const cached = cache.get(relativePath);
  if (cached) return structuredClone(cached);
  const output = execFileSync('kubectl', ['kustomize', `${K8S_ROOT}${relativePath}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const manifests = parseAllDocuments(output).map((document) => {
    if (document.errors.length > 0) throw new Error(document.errors.map(String).join('\n'));
    return document.toJS() as Manifest;
  });
  cache.set(relativePath, manifests);
  return structuredClone(manifests);
}

export function renderOverlay(name: OverlayName): Manifest[] {
  return renderKustomization(`overlays/${name}`);
}

export function find(manifests: readonly Manifest[], kind: string, name?: string): Manifest[] {
  return manifests.filter(
    (item) => item.kind === kind && (name === undefined || item.metadata.name === name),
  );
}

export function findOne(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const [match, ...rest] = find(manifests, kind, name);
  if (!match || rest.length > 0) throw new Error(`expected exactly one ${kind}/${name}`);
  return match;
}
