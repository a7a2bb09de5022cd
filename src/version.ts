import { readFileSync } from 'node:fs';

/**
 * The package version, read once from package.json: one level above the module (src/version.ts,
 * dist/version.js) or two (the bundle in dist/cli/).
 */
function readVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (manifest.name === 'gantry') return manifest.version;
    } catch {
      // not here: try the next level
    }
  }
  return '0.0.0-unknown';
}

export const GANTRY_VERSION: string = readVersion();
