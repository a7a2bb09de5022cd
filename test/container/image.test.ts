import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILD_ARGS, buildImage, PLANTED_SECRET } from './build-context.js';
import { compressedImageSize, docker, runCommand, uniqueSuffix, waitFor } from './docker.js';
import { imageFiles } from './image-files.js';

interface BuildStep {
  readonly name: string;
  cached: boolean;
}

/** Steps of a BuildKit plain-progress log: "#9 [deps 4/4] RUN npm ci …" then "#9 CACHED" or "#9 DONE". */
function buildSteps(log: string): BuildStep[] {
  const steps = new Map<string, BuildStep>();
  for (const line of log.split('\n')) {
    const named = /^#(\d+) \[([^\]]+)\] (.+)$/.exec(line);
    if (named && !steps.has(named[1]!))
      steps.set(named[1]!, { name: `[${named[2]}] ${named[3]}`, cached: false });
    const cached = /^#(\d+) CACHED$/.exec(line);
    if (cached && steps.has(cached[1]!)) steps.get(cached[1]!)!.cached = true;
  }
  return [...steps.values()];
}

function step(steps: BuildStep[], stage: string, command: string): BuildStep {
  const found = steps.find(
    (candidate) => candidate.name.startsWith(`[${stage} `) && candidate.name.includes(command),
  );
  if (!found)
    throw new Error(`no step "${command}" in stage ${stage}; steps: ${steps.map((s) => s.name).join('\n')}`);
  return found;
}

/** The parts of `docker image inspect` the tests read. */
interface ImageInspect {
  Size: number;
  RootFS: { Layers: string[] };
  Config: {
    User: string;
    Entrypoint: string[] | null;
    Cmd: string[];
    StopSignal: string;
    ExposedPorts: Record<string, unknown>;
    Volumes: Record<string, unknown>;
    Env: string[];
    Healthcheck: { Test: string[] };
    Labels: Record<string, string>;
  };
}

async function imageConfig(image: string): Promise<ImageInspect> {
  const { stdout } = await docker(['image', 'inspect', image]);
  return (JSON.parse(stdout) as ImageInspect[])[0]!;
}

describe('the runtime image', () => {
  const image = inject('image');
  let config: ImageInspect;
  let files: string[];

  beforeAll(async () => {
    config = await imageConfig(image);
    files = await imageFiles(image);
  });

  it('builds from the Dockerfile: deps, build, prod-deps and runtime stages', () => {
    const steps = buildSteps(readFileSync(inject('buildLog'), 'utf8'));
    expect(step(steps, 'deps', 'npm ci').name).toContain('--mount=type=cache');
    expect(step(steps, 'build', 'npm run build')).toBeDefined();
    expect(step(steps, 'prod-deps', 'npm ci --omit=dev')).toBeDefined();
    expect(steps.some((candidate) => candidate.name.startsWith('[runtime '))).toBe(true);
    expect(steps.some((candidate) => candidate.name.startsWith('[dev '))).toBe(false); // not built unless asked
  });

  it('reports its size, uncompressed and gzip-compressed', async () => {
    const uncompressed = config.Size;
    const compressed = await compressedImageSize(image);
    const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
    console.log(
      `[image size] ${image}: uncompressed ${mb(uncompressed)} (${uncompressed} B), ` +
        `docker save | gzip ${mb(compressed)} (${compressed} B); first build ${inject('buildSeconds')} s`,
    );
    expect(compressed).toBeGreaterThan(0);
    expect(compressed).toBeLessThan(uncompressed);
  });

  it('runs node directly as a numeric non-root user, with health check, stop signal and OCI labels', () => {
    const imageConfiguration = config.Config;
    expect(imageConfiguration.User).toBe('10001:10001');
    expect(imageConfiguration.Entrypoint ?? []).toEqual([]);
    expect(imageConfiguration.Cmd).toEqual(['node', 'dist/cli/main.js', 'serve']);
    expect(imageConfiguration.StopSignal).toBe('SIGTERM');
    expect(Object.keys(imageConfiguration.ExposedPorts)).toEqual(['8000/tcp']);
    expect(Object.keys(imageConfiguration.Volumes)).toEqual(['/data']);
    expect(imageConfiguration.Env).toContain('NODE_ENV=production');
    expect(imageConfiguration.Env).toContain('DATA_DIR=/data');
    // glibc keeps what the embedded database's start-up freed unless the trim threshold is fixed.
    expect(imageConfiguration.Env).toContain('MALLOC_TRIM_THRESHOLD_=4194304');
    expect(imageConfiguration.Healthcheck.Test).toEqual(['CMD', 'node', 'dist/cli/main.js', 'healthcheck']);
    expect(imageConfiguration.Labels).toMatchObject({
      'org.opencontainers.image.source': BUILD_ARGS.SOURCE,
      'org.opencontainers.image.revision': BUILD_ARGS.REVISION,
      'org.opencontainers.image.version': BUILD_ARGS.VERSION,
      'org.opencontainers.image.created': BUILD_ARGS.CREATED,
    });
  });

  it('holds the compiled app, production dependencies and CA certificates', () => {
    expect(files).toContain('app/dist/cli/main.js');
    expect(files).toContain('app/package.json');
    expect(files).toContain('app/node_modules/fastify/package.json');
    expect(files).toContain('etc/ssl/certs/ca-certificates.crt');
    if (files.includes('app/migrations/')) expect(files.some((file) => file.endsWith('.sql'))).toBe(true);
  });

  it('starts from the V8 code cache made at build time: every module it reads is accepted, none compiled afresh', async () => {
    const container = `gantry-code-cache-${uniqueSuffix()}`;
    try {
      await docker([
        'run',
        '--detach',
        '--name',
        container,
        '--read-only',
        '--tmpfs',
        '/tmp',
        '--env',
        'NODE_DEBUG_NATIVE=COMPILE_CACHE',
        image,
      ]);
      const output = await waitFor(
        'startup complete',
        async () => {
          const logs = await docker(['logs', container]);
          const text = `${logs.stdout}\n${logs.stderr}`;
          return text.includes('startup complete') ? text : undefined;
        },
        60_000,
      );
      const debug = output.split('\n').filter((line) => line.startsWith('[compile cache]'));
      const accepted = debug.flatMap((line) => /file:\/\/(\S+) was accepted/.exec(line)?.[1] ?? []);
      // The CLI, the serve command, the embedded database's thread and PGlite itself.
      expect(accepted).toEqual(
        expect.arrayContaining([
          '/app/dist/cli/main.js',
          expect.stringMatching(/^\/app\/dist\/cli\/run-serve-\w+\.js$/),
          '/app/dist/cli/pglite-thread.js',
          '/app/node_modules/@electric-sql/pglite/dist/index.js',
        ]),
      );
      expect(debug.filter((line) => /rejected|not initialized|denied|cannot|fail/i.test(line))).toEqual([]);
    } finally {
      await docker(['rm', '--force', container], { allowFailure: true });
    }
  });

  it('holds no devDependencies, sources, tests or package managers', () => {
    // The lockfile marks every package only devDependencies need ("dev": true); none may ship.
    const lockfile = JSON.parse(readFileSync(join(inject('buildContext'), 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
    };
    const devOnly = Object.entries(lockfile.packages)
      .filter(([path, entry]) => entry.dev && path.startsWith('node_modules/'))
      .map(([path]) => path);
    expect(devOnly).toEqual(
      expect.arrayContaining([
        'node_modules/typescript',
        'node_modules/vitest',
        'node_modules/@biomejs/biome',
      ]),
    );
    const shipped = devOnly.filter((path) => files.includes(`app/${path}/`));
    expect(shipped).toEqual([]);
    // And the production tree is there: every top-level package that is neither dev nor optional.
    const production = Object.entries(lockfile.packages)
      .filter(
        ([path, entry]) =>
          path.startsWith('node_modules/') && !entry.dev && !path.includes('/node_modules/', 1),
      )
      .filter(([, entry]) => !entry.optional && !entry.devOptional)
      .map(([path]) => path);
    expect(production.filter((path) => !files.includes(`app/${path}/`))).toEqual([]);
    expect(files.filter((file) => /^app\/(src|test|bench|deploy|docs)\//.test(file))).toEqual([]);
    expect(files.filter((file) => file.startsWith('app/') && file.endsWith('.ts'))).toEqual([]);
    const packageManagers = files.filter((file) =>
      /^(usr\/local\/lib\/node_modules\/(npm|corepack)\/|usr\/local\/bin\/(npm|npx|corepack|yarn|yarnpkg)$|opt\/yarn)/.test(
        file,
      ),
    );
    expect(packageManagers).toEqual([]);
  });

  it('holds no secrets: no .env, keys, secrets folder, local data or host node_modules, in files or history', async () => {
    const leaked = files.filter(
      (file) =>
        /(^|\/)\.env(\.|$)/.test(file) ||
        /(^|\/)secrets\//.test(file) ||
        /^app\/.*\.(pem|key|p12)$/.test(file) ||
        file.startsWith('app/data/') ||
        file.includes('planted'),
    );
    expect(leaked).toEqual([]);

    // Nothing under /app carries the planted secret, whatever the file is called.
    const directory = mkdtempSync(join(tmpdir(), 'gantry-app-'));
    const container = `gantry-app-${uniqueSuffix()}`;
    try {
      await docker(['create', '--name', container, image]);
      await docker(['cp', `${container}:/app`, directory]);
      const search = await runCommand('grep', ['-rl', PLANTED_SECRET, directory], { allowFailure: true });
      expect(search.code, `planted secret found in: ${search.stdout}`).toBe(1);
    } finally {
      await docker(['rm', '--force', '--volumes', container], { allowFailure: true });
      rmSync(directory, { recursive: true, force: true });
    }

    const { stdout: history } = await docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', image]);
    expect(history).not.toContain(PLANTED_SECRET);
    expect(history).not.toMatch(/\b(API_KEY|MASTER_KEY|PASSWORD|TOKEN)=/);
    const environment = config.Config.Env.filter((entry) => /(KEY|SECRET|PASSWORD|TOKEN)=/.test(entry));
    expect(environment).toEqual([]);
  });
});

describe('rebuilding after a change under src/', () => {
  const image = inject('image');
  const rebuilt = `${image}-rebuilt`;
  let context: string;
  let log: string;

  beforeAll(async () => {
    context = mkdtempSync(join(tmpdir(), 'gantry-rebuild-context-'));
    cpSync(inject('buildContext'), context, { recursive: true });
    appendFileSync(join(context, 'src/version.ts'), `\n// cache probe ${Date.now()}\n`);
    log = await buildImage(context, rebuilt);
  });

  afterAll(async () => {
    await docker(['image', 'rm', '--force', rebuilt], { allowFailure: true });
    if (context) rmSync(context, { recursive: true, force: true });
  });

  it('reuses the dependency layers (CACHED) and recompiles only the source', () => {
    const steps = buildSteps(log);
    expect(step(steps, 'deps', 'npm ci').cached).toBe(true);
    expect(step(steps, 'prod-deps', 'npm ci --omit=dev').cached).toBe(true);
    expect(step(steps, 'runtime', 'apt-get install').cached).toBe(true);
    expect(step(steps, 'build', 'COPY src').cached).toBe(false);
    expect(step(steps, 'build', 'npm run build').cached).toBe(false);
  });

  it('shares every layer with the first image but the compiled dist/ layer', async () => {
    const before = (await imageConfig(image)).RootFS.Layers;
    const after = (await imageConfig(rebuilt)).RootFS.Layers;
    expect(after).toHaveLength(before.length);
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    expect(after.at(-1)).not.toBe(before.at(-1));
  });
});
