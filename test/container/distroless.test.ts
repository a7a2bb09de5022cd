import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildImage } from './build-context.js';
import { compressedImageSize, docker, runDetached, uniqueSuffix, waitHealthy } from './docker.js';
import { imageFiles } from './image-files.js';

describe('the distroless variant (docker build --target distroless)', () => {
  const image = `gantry-distroless-test:${uniqueSuffix()}`;
  const container = `gantry-distroless-${uniqueSuffix()}`;
  let files: string[];

  beforeAll(async () => {
    // Same context as the main image: deps, build and prod-deps come from the build cache.
    await buildImage(inject('buildContext'), image, { target: 'distroless' });
    files = await imageFiles(image);
  });

  afterAll(async () => {
    await docker(['rm', '--force', '--volumes', container], { allowFailure: true });
    await docker(['image', 'rm', '--force', image], { allowFailure: true });
  });

  it('reports its size, uncompressed and gzip-compressed', async () => {
    const { stdout } = await docker(['image', 'inspect', '--format', '{{.Size}}', image]);
    const uncompressed = Number(stdout.trim());
    const compressed = await compressedImageSize(image);
    const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
    console.log(
      `[image size] ${image}: uncompressed ${mb(uncompressed)} (${uncompressed} B), ` +
        `docker save | gzip ${mb(compressed)} (${compressed} B)`,
    );
    expect(compressed).toBeLessThan(uncompressed);
  });

  it('holds node, its libraries, CA certificates and the app: no shell, no package manager', () => {
    expect(files).toContain('usr/local/bin/node');
    expect(files).toContain('etc/ssl/certs/ca-certificates.crt');
    expect(files).toContain('app/dist/cli/main.js');
    expect(files.filter((file) => /^(usr\/)?bin\/(sh|bash|dash|apt|apt-get|dpkg)$/.test(file))).toEqual([]);
    expect(
      files.filter((file) => /^usr\/local\/(lib\/node_modules|bin\/(npm|npx|yarn|corepack))/.test(file)),
    ).toEqual([]);
    expect(files.filter((file) => /^app\/node_modules\/(typescript|vitest|@biomejs)\//.test(file))).toEqual(
      [],
    );
  });

  it('runs read-only as uid 10001 and turns healthy through its exec-form HEALTHCHECK', async () => {
    const url = await runDetached(container, image, [
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--env',
      'MODEL_NAME=distroless-model',
    ]);
    await waitHealthy(container, 90_000);
    const { stdout: user } = await docker(['inspect', '--format', '{{.Config.User}}', container]);
    expect(user.trim()).toBe('10001:10001');
    const { stdout: environment } = await docker(['inspect', '--format', '{{json .Config.Env}}', container]);
    expect(JSON.parse(environment)).toEqual(
      expect.arrayContaining([
        'NODE_OPTIONS=--max-semi-space-size=32',
        'MALLOC_TRIM_THRESHOLD_=4194304',
        'NODE_COMPILE_CACHE=/app/dist/.compile-cache',
      ]),
    );
    const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(15_000) });
    const info = (await response.json()) as { default_model: string; mode: string };
    expect(info).toMatchObject({ default_model: 'distroless-model', mode: 'dev' });
    const shell = await docker(['exec', container, 'sh', '-c', 'id'], { allowFailure: true });
    expect(shell.code).not.toBe(0);
  });
});
