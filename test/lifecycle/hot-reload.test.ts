import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';
import { metricValue, parseChatStream, send, waitFor, waitStarted } from './http-client.js';

function configYaml(variant: number, extraAlias?: string) {
  return `
app: { default_model: steady }
models:
  - alias: steady
    system_prompt: "variant ${variant}"
    deployments:
      - provider: mock
        model: steady-1
        mock: { words: ${5 + (variant % 7)} }
${
  extraAlias
    ? `  - alias: ${extraAlias}
    deployments:
      - provider: mock
        model: ${extraAlias}-1
`
    : ''
}`;
}

async function modelIds(url: string) {
  const answer = await send(`${url}/v1/models`);
  return (JSON.parse(answer.text) as { data: Array<{ id: string }> }).data.map((model) => model.id);
}

async function reloads(url: string, result: 'success' | 'error') {
  const metrics = (await send(`${url}/metrics`)).text;
  return metricValue(metrics, 'gantry_config_reloads_total', { result }) ?? 0;
}

describe('hot reload of the configuration (real process, real files)', () => {
  let gantry: GantryProcess | undefined;
  const directories: string[] = [];
  afterEach(async () => {
    gantry?.child.kill('SIGKILL');
    await gantry?.exited;
    gantry = undefined;
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });
  const tempDirectory = () => {
    const directory = mkdtempSync(join(tmpdir(), 'gantry-reload-'));
    directories.push(directory);
    return directory;
  };

  it('serves without a single failure while the file is rewritten every 100 ms for 10 s', async () => {
    const directory = tempDirectory();
    const file = join(directory, 'gantry.yaml');
    writeFileSync(file, configYaml(0));
    gantry = await startGantry({ env: { GANTRY_CONFIG: file } });
    const { url } = gantry;
    await waitStarted(url);

    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const client = async (id: number) => {
      for (let round = 0; !stop; round++) {
        const stream = (round + id) % 2 === 0;
        try {
          const answer = await send(`${url}/v1/chat/completions`, {
            body: {
              model: 'steady',
              stream,
              messages: [{ role: 'user', content: `client ${id} round ${round}` }],
            },
          });
          const ok = answer.status === 200 && (!stream || parseChatStream(answer.text).done);
          if (!ok) failures.push(`${answer.status} ${answer.text.slice(0, 200)}`);
          answered++;
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const clients = Array.from({ length: 4 }, (_, id) => client(id));
    // Both ways editors and tools write: in place (truncate + write) and write-then-rename.
    for (let variant = 1; variant <= 100; variant++) {
      if (variant % 2 === 0) writeFileSync(file, configYaml(variant));
      else {
        writeFileSync(`${file}.tmp`, configYaml(variant));
        renameSync(`${file}.tmp`, file);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The last valid config adds an alias; an invalid one follows and must change nothing.
    writeFileSync(file, configYaml(101, 'added'));
    await waitFor(
      async () => ((await modelIds(url)).includes('added') ? true : undefined),
      'the last reload',
    );
    const errorsBefore = await reloads(url, 'error');
    writeFileSync(file, 'models:\n  - alias: steady\n    deployments: []\n');
    await waitFor(
      async () => ((await reloads(url, 'error')) > errorsBefore ? true : undefined),
      'the rejection',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop = true;
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(20);
    expect(await reloads(url, 'success')).toBeGreaterThan(10);
    expect(await modelIds(url)).toContain('added');
    const added = await send(`${url}/v1/chat/completions`, {
      body: { model: 'added', messages: [{ role: 'user', content: 'still here' }] },
    });
    expect(added.status).toBe(200);
    // Logged with the reason (truncate-then-write also yields "is empty" rejections along the way).
    await waitFor(
      () =>
        gantry!
          .logs()
          .some(
            (line) =>
              line.msg === 'configuration reload rejected; the previous configuration stays' &&
              JSON.stringify(line.problems).includes('models.0.deployments'),
          ) || undefined,
      'the logged reason',
    );
  }, 60_000);

  it('reloads on SIGHUP and reports settings that need a restart without applying them', {
    timeout: 60_000,
  }, async () => {
    const directory = tempDirectory();
    const file = join(directory, 'gantry.yaml');
    writeFileSync(file, configYaml(0));
    gantry = await startGantry({ env: { GANTRY_CONFIG: file } });
    const { url } = gantry;
    await waitStarted(url);
    const before = await reloads(url, 'success');
    gantry.child.kill('SIGHUP');
    await waitFor(
      async () => ((await reloads(url, 'success')) === before + 1 ? true : undefined),
      'SIGHUP reload',
    );
    expect(gantry.child.exitCode).toBeNull();

    writeFileSync(file, `${configYaml(1, 'moved')}server: { workers: 3, body_limit: 1000 }\n`);
    await waitFor(async () => ((await modelIds(url)).includes('moved') ? true : undefined), 'the reload');
    const warning = await waitFor(
      () =>
        gantry!
          .logs()
          .find((line) => line.msg === 'configuration changes that require a restart were not applied'),
      'the restart warning',
    );
    expect(warning?.settings).toEqual(['server.workers', 'server.body_limit']);
    // Still one process, still accepting bodies over 1000 bytes.
    const big = await send(`${url}/v1/chat/completions`, {
      body: { model: 'moved', messages: [{ role: 'user', content: 'x'.repeat(5000) }] },
    });
    expect(big.status).toBe(200);
  });

  it('sees a Kubernetes ConfigMap update (atomic swap of the ..data symlink)', {
    timeout: 60_000,
  }, async () => {
    const mount = tempDirectory();
    // The layout the kubelet writes: a timestamped directory, ..data pointing at it, and the file
    // as a symlink through ..data.
    mkdirSync(join(mount, '..2026_01_01_00_00_00.1'));
    writeFileSync(join(mount, '..2026_01_01_00_00_00.1', 'gantry.yaml'), configYaml(0));
    symlinkSync('..2026_01_01_00_00_00.1', join(mount, '..data'));
    symlinkSync('..data/gantry.yaml', join(mount, 'gantry.yaml'));
    gantry = await startGantry({ env: { GANTRY_CONFIG: join(mount, 'gantry.yaml') } });
    const { url } = gantry;
    await waitStarted(url);
    expect(await modelIds(url)).not.toContain('from-configmap');

    mkdirSync(join(mount, '..2026_01_01_00_01_00.2'));
    writeFileSync(join(mount, '..2026_01_01_00_01_00.2', 'gantry.yaml'), configYaml(1, 'from-configmap'));
    symlinkSync('..2026_01_01_00_01_00.2', join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    rmSync(join(mount, '..2026_01_01_00_00_00.1'), { recursive: true });

    await waitFor(
      async () => ((await modelIds(url)).includes('from-configmap') ? true : undefined),
      'the swap',
    );
    expect(await reloads(url, 'error')).toBe(0);
  });
});
