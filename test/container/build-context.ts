import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { docker } from './docker.js';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

/** A string planted in would-be secrets; it must never be found inside an image. */
export const PLANTED_SECRET = 'sk-planted-secret-must-not-reach-the-image-0451';

/**
 * Files a careless build would ship: a developer's .env, a secrets folder, keys, local state,
 * host node_modules, tests. .dockerignore must keep every one of them out of the image.
 */
const PLANTED_FILES = [
  '.env',
  '.env.local',
  'src/.env.production',
  'secrets/gantry_master_key',
  'src/dev-server.key',
  'deploy/compose/tls.pem',
  'data/pglite/planted',
  'node_modules/planted-package/index.js',
  'test/planted.test.ts',
];

/**
 * Copies the working tree as git sees it (tracked and untracked, minus ignored files) to a
 * temporary folder, so a build is not disturbed by concurrent edits and a test may change files
 * in it; then plants the would-be secrets above.
 */
export function snapshotBuildContext(): string {
  const target = mkdtempSync(join(tmpdir(), 'gantry-build-context-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const source = join(REPO_ROOT, file);
    if (!existsSync(source)) continue; // deleted in the working tree
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(source, join(target, file));
  }
  for (const file of PLANTED_FILES) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    writeFileSync(join(target, file), `OPENAI_API_KEY=${PLANTED_SECRET}\n`);
  }
  return target;
}

export const BUILD_ARGS = {
  SOURCE: 'https://example.invalid/gantry.git',
  REVISION: 'c0ffee0000000000000000000000000000000000',
  VERSION: '0.1.0-test',
  CREATED: '2025-01-02T03:04:05Z',
};

/** `docker build` with plain progress; returns the build log (BuildKit writes it to stderr). */
export async function buildImage(
  context: string,
  tag: string,
  options: { dockerfile?: string; target?: string } = {},
): Promise<string> {
  const args = ['build', '--progress=plain', '--tag', tag, '--file', options.dockerfile ?? 'Dockerfile'];
  if (options.target) args.push('--target', options.target);
  for (const [name, value] of Object.entries(BUILD_ARGS)) args.push('--build-arg', `${name}=${value}`);
  const { stdout, stderr } = await docker([...args, '.'], { cwd: context });
  return `${stdout}\n${stderr}`;
}
