import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, runCommand, uniqueSuffix } from './docker.js';

/**
 * Every path in an image's filesystem ("app/dist/…", directories end in "/"), from `docker export`
 * of a created, never started container: works for images without a shell too.
 */
export async function imageFiles(image: string): Promise<string[]> {
  const container = `gantry-files-${uniqueSuffix()}`;
  await docker(['create', '--name', container, image]);
  const directory = mkdtempSync(join(tmpdir(), 'gantry-export-'));
  try {
    const archive = join(directory, 'rootfs.tar');
    await docker(['export', '--output', archive, container]);
    const { stdout } = await runCommand('tar', ['-tf', archive]);
    return stdout.split('\n').filter(Boolean);
  } finally {
    rmSync(directory, { recursive: true, force: true });
    await docker(['rm', '--force', '--volumes', container], { allowFailure: true }); // and its anonymous /data volume
  }
}
