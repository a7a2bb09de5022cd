import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { Manifest } from './render-overlay.js';

interface ModelClass {
  new (data: never): object;
  prototype: { validate(): void };
}

/**
 * The schemas every rendered object is checked against, by apiVersion/kind. Anything else (a
 * deprecated apiVersion, a CRD nobody vetted) has no entry and fails validation.
 */
const MODELS: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/CronJob': CronJob,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'scheduling.k8s.io/v1/PriorityClass': PriorityClass,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'cert-manager.io/v1/Certificate': Certificate,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute as unknown as ModelClass,
};

/**
 * Fields the API defines but whose property the models' generator dropped from the compiled
 * schema (it strips `description` keys, including a property of that name), so the validator
 * never reads them. Listed by exact path, per kind.
 */
const DROPPED_BY_GENERATOR: Record<string, readonly string[]> = {
  'scheduling.k8s.io/v1/PriorityClass': ['description'],
};

export interface ValidationResult {
  /** Errors from the model's JSON schema (types, enums, required fields). */
  readonly schemaErrors: string[];
  /** Paths of fields the schema does not define, e.g. `spec.template.spec.containers[0].readinesProbe`. */
  readonly unknownFields: string[];
}

/**
 * Validates one object against its kubernetes-models schema, then rejects unknown fields.
 *
 * The models' validators are compiled JSON schemas that, like the API server's non-strict decoding,
 * ignore fields they do not know: a `readinesProbe` typo passes and the probe silently disappears.
 * The compiled validators do read every property their schema declares, though, and enumerate the
 * keys of maps (`additionalProperties`: labels, annotations, ConfigMap data, free-form CRD fields).
 * So the object is validated through a Proxy that records, per object, which keys the validator
 * looked up and whether it enumerated them; a key that was neither looked up nor enumerated is one
 * the schema does not define. This is `kubectl --validate=strict` without a cluster.
 */
export function validateStrictly(manifest: Manifest): ValidationResult {
  const model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!model) {
    return {
      schemaErrors: [`no schema registered for ${manifest.apiVersion} ${manifest.kind}`],
      unknownFields: [],
    };
  }
  // The model copies the data (and, for older generated packages, finds its schema on the prototype).
  const instance = new model(manifest as never) as Record<string, unknown>;
  const readKeys = new Map<object, Set<string>>();
  const enumerated = new Set<object>();
  const schemaErrors: string[] = [];
  try {
    model.prototype.validate.call(track(instance, readKeys, enumerated));
  } catch (error) {
    schemaErrors.push((error as Error).message);
  }
  const dropped = new Set(DROPPED_BY_GENERATOR[`${manifest.apiVersion}/${manifest.kind}`]);
  const unknownFields: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) walk(item, `${path}[${index}]`);
      return;
    }
    const known = readKeys.get(value);
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (!enumerated.has(value) && !known?.has(key) && !dropped.has(childPath)) {
        unknownFields.push(childPath);
        continue;
      }
      walk(child, childPath);
    }
  };
  walk(instance, '');
  return { schemaErrors, unknownFields };
}

function track<T>(value: T, readKeys: Map<object, Set<string>>, enumerated: Set<object>): T {
  if (value === null || typeof value !== 'object') return value;
  const record = (target: object, key: string | symbol) => {
    if (typeof key !== 'string') return;
    const keys = readKeys.get(target) ?? new Set<string>();
    readKeys.set(target, keys.add(key));
  };
  return new Proxy(value as object, {
    get(target, key, receiver) {
      record(target, key);
      return track(Reflect.get(target, key, receiver), readKeys, enumerated);
    },
    has(target, key) {
      record(target, key);
      return Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      record(target, key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    ownKeys(target) {
      enumerated.add(target);
      return Reflect.ownKeys(target);
    },
  }) as T;
}
