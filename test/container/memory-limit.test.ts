import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './build-context.js';
import { docker, runDetached, uniqueSuffix, waitFor, writeMountedConfig } from './docker.js';

const MASTER_KEY = 'sk-container-memory-master-key-0123456789';
const CONFIG_YAML = `
models:
  - alias: house-model
    deployments:
      - { provider: mock, model: house-model, mock: { chunk_delay: "1ms", words: 5 } }
`;

interface ManifestContainer {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  resources: { limits: { memory: string } };
}

/** The gateway container of the Kubernetes Deployment, as the manifest declares it. */
function deploymentContainer(): ManifestContainer {
  const manifest = parseYaml(readFileSync(join(REPO_ROOT, 'deploy/k8s/base/deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: ManifestContainer[] } } };
  };
  const container = manifest.spec.template.spec.containers.find((each) => each.name === 'gantry');
  if (!container) throw new Error('deploy/k8s/base/deployment.yaml has no gantry container');
  return container;
}

function bytesOf(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 ** 3 : 1024 ** 2);
}

/**
 * The image on the embedded database (the Deployment's default: DATA_DIR on a volume, no
 * DATABASE_URL) inside the Deployment's memory limit, with no swap, as a kubelet runs it. On Node 24
 * creating the data directory with initdb took 620 MB to 1.1 GB and every later start about 650 MB
 * for a few seconds (V8 optimizing one of Postgres's WebAssembly functions), so the kernel killed it
 * on every start and /startup never answered.
 */
describe('docker run on the embedded database within the Kubernetes memory limit', () => {
  const image = inject('image');
  const container = `gantry-memory-${uniqueSuffix()}`;
  const configDirectory = mkdtempSync(join(tmpdir(), 'gantry-memory-config-'));
  const manifest = deploymentContainer();
  const limit = bytesOf(manifest.resources.limits.memory);
  const manifestEnv = (name: string) => manifest.env?.find((each) => each.name === name)?.value;
  let url: string;

  const state = async () => {
    const { stdout } = await docker([
      'inspect',
      '--format',
      '{{.State.Status}} {{.State.OOMKilled}} {{.RestartCount}}',
      container,
    ]);
    const [status, oomKilled, restarts] = stdout.trim().split(' ');
    return { status, oomKilled: oomKilled === 'true', restarts: Number(restarts) };
  };
  const started = () =>
    waitFor(
      `${container}'s /startup to answer 200`,
      async () => {
        const { status } = await state();
        if (status !== 'running') {
          const { stdout, stderr } = await docker(['logs', '--tail', '20', container]);
          throw new Error(`${container} is ${status}:\n${stdout}${stderr}`);
        }
        const response = await fetch(`${url}/startup`, { signal: AbortSignal.timeout(2_000) }).catch(
          () => undefined,
        );
        return response?.status === 200 ? true : undefined;
      },
      60_000,
    );
  /**
   * The most the container's cgroup has held since it started (cgroup v2, else v1), printed for the
   * report: it cannot pass the limit, so the test's evidence is that nothing was killed.
   */
  const peakBytes = async () => {
    const { stdout } = await docker([
      'exec',
      container,
      'sh',
      '-c',
      'cat /sys/fs/cgroup/memory.peak 2>/dev/null || cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes',
    ]);
    return Number(stdout.trim());
  };
  const chat = async () => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(15_000),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
      body: JSON.stringify({ model: 'house-model', messages: [{ role: 'user', content: 'hello' }] }),
    });
    await response.arrayBuffer();
    return response.status;
  };

  beforeAll(async () => {
    const configFile = writeMountedConfig(configDirectory, CONFIG_YAML);
    url = await runDetached(container, image, [
      '--memory',
      String(limit),
      '--memory-swap',
      String(limit),
      '--volume',
      `${configFile}:/etc/gantry/gantry.yaml:ro`,
      '--env',
      'GANTRY_CONFIG=/etc/gantry/gantry.yaml',
      '--env',
      'MODEL_NAME=house-model',
      '--env',
      `GANTRY_MASTER_KEY=${MASTER_KEY}`,
      '--env',
      `DATA_DIR=${manifestEnv('DATA_DIR') ?? '/data'}`,
      '--env',
      `NODE_OPTIONS=${manifestEnv('NODE_OPTIONS') ?? ''}`,
    ]);
  });

  afterAll(async () => {
    await docker(['rm', '--force', '--volumes', container], { allowFailure: true });
    rmSync(configDirectory, { recursive: true, force: true });
  });

  it('creates its database and starts on the first start, and serves', async () => {
    await started();
    for (let index = 0; index < 200; index++) expect(await chat()).toBe(200);
    // Some seconds of traffic: where V8 would optimize the database's hot functions, it has.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const peak = await peakBytes();
    process.stdout.write(
      `[memory limit] first start: cgroup peak ${(peak / 2 ** 20).toFixed(0)} MiB of ${limit / 2 ** 20} MiB\n`,
    );
    expect(await state()).toEqual({ status: 'running', oomKilled: false, restarts: 0 });
  });

  it('starts again on the database it made, within the limit', async () => {
    await docker(['restart', container]);
    await started();
    for (let index = 0; index < 200; index++) expect(await chat()).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const peak = await peakBytes();
    process.stdout.write(
      `[memory limit] restart: cgroup peak ${(peak / 2 ** 20).toFixed(0)} MiB of ${limit / 2 ** 20} MiB\n`,
    );
    expect(await state()).toEqual({ status: 'running', oomKilled: false, restarts: 0 });
  });
});
