import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildImage, REPO_ROOT, snapshotBuildContext } from './build-context.js';
import { docker, uniqueSuffix } from './docker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Tag of the runtime image built once for the whole container suite. */
    image: string;
    /** The build context the image was built from (a snapshot of the working tree). */
    buildContext: string;
    /** Path of the first build's plain-progress log. */
    buildLog: string;
    /** Wall time of that build, for the report. */
    buildSeconds: number;
  }
}

function standinsScript(): string | undefined {
  const candidates = [
    process.env.SHARED_DIR && join(process.env.SHARED_DIR, 'docker/standins.sh'),
    join(REPO_ROOT, '../shared/docker/standins.sh'),
    '/work/shared/docker/standins.sh',
  ].filter((path): path is string => Boolean(path));
  return candidates.find((path) => existsSync(path));
}

/**
 * Makes sure a Docker engine and the local base images are there (standins.sh is idempotent,
 * seconds when nothing changed), then fails loudly if the engine still does not answer:
 * this suite is never skipped.
 */
function ensureDockerEngine() {
  const script = standinsScript();
  let standinsProblem = '';
  if (script && process.getuid?.() === 0) {
    try {
      execFileSync('bash', [script], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
    } catch (error) {
      standinsProblem = `\n${script} failed: ${(error as Error).message}`;
      // Go on: an engine that answers anyway may already have the images; if not, the build says so.
      process.stderr.write(`${standinsProblem}\n`);
    }
  }
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 30_000 });
  } catch (error) {
    throw new Error(
      'The container suite needs a running Docker engine and none answered. Run ' +
        `${script ?? '../shared/docker/standins.sh'} as root (it installs and starts dockerd and ` +
        'builds the base images), then run `npm run test:container` again.\n' +
        `${(error as Error).message}${standinsProblem}`,
    );
  }
}

export default async function setup(project: TestProject) {
  ensureDockerEngine();
  const buildContext = snapshotBuildContext();
  const image = `gantry-container-test:${uniqueSuffix()}`;
  const started = performance.now();
  const log = await buildImage(buildContext, image);
  const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
  const buildLog = join(buildContext, '..', `${image.replace(/[:/]/g, '-')}.build.log`);
  writeFileSync(buildLog, log);
  project.provide('image', image);
  project.provide('buildContext', buildContext);
  project.provide('buildLog', buildLog);
  project.provide('buildSeconds', buildSeconds);

  return async () => {
    await docker(['image', 'rm', '--force', image], { allowFailure: true });
    rmSync(buildContext, { recursive: true, force: true });
    rmSync(buildLog, { force: true });
  };
}
