import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Config, loadConfig } from '../../src/config/load.js';
import { findOne, type Manifest } from './render-overlay.js';
import type { Container, PodTemplate } from './workloads.js';

/** Plausible stand-ins for the Secret's files, by what they hold. */
function fakeSecret(path: string): string {
  if (/database-url/.test(path)) return 'postgres://gantry@db.internal.example:5432/gantry';
  if (/redis-url/.test(path)) return 'redis://redis.internal.example:6379/0';
  return 'k8s-test-secret-0123456789abcdef';
}

/**
 * Loads the configuration exactly as the pod would: the container's env, the ConfigMap's files at
 * their mount path and the Secret's files at theirs, all re-rooted under a temporary directory.
 * Secret values are stand-ins; every path the pod reads must exist in the mounts.
 */
export function loadPodConfig(manifests: readonly Manifest[], template: PodTemplate, container: Container) {
  const root = mkdtempSync(join(tmpdir(), 'gantry-k8s-pod-'));
  const mounts = container.volumeMounts ?? [];
  const volumeAt = (path: string) => {
    const mount = mounts.find((candidate) => path.startsWith(`${candidate.mountPath}/`));
    if (!mount) throw new Error(`${path} is not under any volumeMount of ${container.name}`);
    return template.spec.volumes!.find((volume) => volume.name === mount.name)!;
  };
  const place = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const reroot = (path: string) => join(root, path);

  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '';
  const configPath = env.GANTRY_CONFIG;
  if (!configPath) throw new Error(`${container.name}: GANTRY_CONFIG is not set`);
  const configVolume = volumeAt(configPath);
  const configMap = findOne(manifests, 'ConfigMap', configVolume.configMap!.name);
  const fileName = configPath.slice(configPath.lastIndexOf('/') + 1);
  const text = (configMap.data as Record<string, string>)[fileName];
  if (text === undefined) throw new Error(`ConfigMap ${configMap.metadata.name} has no key ${fileName}`);

  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith('_FILE')) continue;
    if (!volumeAt(value).secret) throw new Error(`${name}=${value} is not on a Secret volume`);
    place(value, fakeSecret(value));
    env[name] = reroot(value);
  }
  const rerootedText = text.replace(/file:(\/\S+)/g, (_match, path: string) => {
    if (!volumeAt(path).secret) throw new Error(`file:${path} is not on a Secret volume`);
    place(path, fakeSecret(path));
    return `file:${reroot(path)}`;
  });
  place(configPath, rerootedText);
  env.GANTRY_CONFIG = reroot(configPath);
  if (env.DATA_DIR) env.DATA_DIR = reroot(env.DATA_DIR);
  const config: Config = loadConfig({ env, file: env.GANTRY_CONFIG, fileText: rerootedText });
  return { config, env, text };
}
