import { describe, expect, it } from 'vitest';
import { find, type Manifest, OVERLAYS, renderKustomization, renderOverlay } from './render-overlay.js';
import { validateStrictly } from './strict-validate.js';

describe('every overlay renders and validates against the Kubernetes and CRD schemas', () => {
  for (const overlay of [...OVERLAYS.map((name) => `overlays/${name}`), 'base']) {
    it(`${overlay}: renders with kubectl kustomize; no schema errors, no unknown fields`, () => {
      const manifests = renderKustomization(overlay);
      expect(manifests.length).toBeGreaterThan(3);
      const problems = manifests.flatMap((manifest) => {
        const { schemaErrors, unknownFields } = validateStrictly(manifest);
        const where = `${manifest.kind}/${manifest.metadata.name}`;
        return [
          ...schemaErrors.map((error) => `${where}: ${error}`),
          ...unknownFields.map((field) => `${where}: unknown field ${field}`),
        ];
      });
      expect(problems).toEqual([]);
    });
  }

  it('covers the CRDs the overlays use (KEDA, prometheus-operator, cert-manager, Gateway API)', () => {
    const kinds = new Set(
      OVERLAYS.flatMap((name) => renderOverlay(name)).map((item) => `${item.apiVersion}/${item.kind}`),
    );
    for (const expected of [
      'keda.sh/v1alpha1/ScaledObject',
      'monitoring.coreos.com/v1/ServiceMonitor',
      'monitoring.coreos.com/v1/PrometheusRule',
      'cert-manager.io/v1/Certificate',
      'gateway.networking.k8s.io/v1/HTTPRoute',
    ]) {
      expect(kinds).toContain(expected);
    }
  });
});

describe('the strict check rejects what the schemas alone accept', () => {
  const deployment = () => structuredClone(find(renderOverlay('prod'), 'Deployment', 'gantry')[0]!);
  const container = (manifest: Manifest) =>
    (manifest as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec
      .template.spec.containers[0]!;

  it('a misspelt readinessProbe: the model alone accepts it, the strict check names it', () => {
    const manifest = deployment();
    const probe = container(manifest).readinessProbe;
    delete container(manifest).readinessProbe;
    container(manifest).readinesProbe = probe;
    const result = validateStrictly(manifest);
    expect(result.schemaErrors).toEqual([]);
    expect(result.unknownFields).toEqual(['spec.template.spec.containers[0].readinesProbe']);
  });

  it('unknown fields deep inside a pod template and at the top level', () => {
    const manifest = deployment() as Record<string, unknown> & Manifest;
    (container(manifest).securityContext as Record<string, unknown>).runAsNonroot = true;
    (manifest.spec as Record<string, unknown>).replica = 3;
    manifest.status2 = {};
    expect(validateStrictly(manifest).unknownFields.sort()).toEqual([
      'spec.replica',
      'spec.template.spec.containers[0].securityContext.runAsNonroot',
      'status2',
    ]);
  });

  it('map-typed fields (labels, annotations, env values) stay open', () => {
    const manifest = deployment();
    (manifest.metadata as Record<string, unknown>).annotations = { 'any.example.com/key': 'value' };
    expect(validateStrictly(manifest)).toEqual({ schemaErrors: [], unknownFields: [] });
  });

  it('CRDs too: a KEDA fallback typo is an unknown field; a numeric threshold is a schema error', () => {
    const [scaledObject] = find(renderOverlay('keda'), 'ScaledObject');
    const manifest = structuredClone(scaledObject!) as Manifest & {
      spec: { fallback: Record<string, unknown>; triggers: { metadata: Record<string, unknown> }[] };
    };
    manifest.spec.fallback.replica = manifest.spec.fallback.replicas;
    manifest.spec.triggers[0]!.metadata.threshold = 30;
    const result = validateStrictly(manifest);
    expect(result.unknownFields).toEqual(['spec.fallback.replica']);
    expect(result.schemaErrors.join()).toMatch(/threshold must be string/);
  });

  it('Gateway API (an older generated package) gets the same strictness', () => {
    const [route] = find(renderOverlay('prod'), 'HTTPRoute');
    const manifest = structuredClone(route!) as Manifest & {
      spec: { parentRefs: Record<string, unknown>[] };
    };
    manifest.spec.parentRefs[0]!.sectoinName = 'https';
    expect(validateStrictly(manifest).unknownFields).toEqual(['spec.parentRefs[0].sectoinName']);
  });

  it('type errors and unregistered or deprecated apiVersions fail', () => {
    const manifest = deployment() as Manifest & { spec: Record<string, unknown> };
    manifest.spec.minReadySeconds = 'ten';
    expect(validateStrictly(manifest).schemaErrors.join()).toMatch(/minReadySeconds/);
    const legacy = { ...deployment(), apiVersion: 'extensions/v1beta1' };
    expect(validateStrictly(legacy).schemaErrors).toEqual([
      'no schema registered for extensions/v1beta1 Deployment',
    ]);
  });
});
