import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { writeTempConfig } from '../helpers/gantry-process.js';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

function gantry(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('gantry CLI', () => {
  it('stops startup with exit status 78 and names the bad setting', () => {
    const result = gantry(['serve'], { PORT: 'eighty', APP_MODE: 'prod' });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('PORT: "eighty" is not an integer');
    expect(result.stderr).toContain('auth.master_key (GANTRY_MASTER_KEY or GANTRY_MASTER_KEY_FILE)');
  });

  it('checks a configuration and prints it with secrets masked', () => {
    const file = writeTempConfig(`models:
  - alias: gpt
    deployments:
      - { provider: openai, model: gpt-4o, api_key: sk-live-supersecret-1234 }
database: { url: "postgres://gantry:hunter2@db:5432/gantry" }
`);
    const result = gantry(['config', 'check', '--config', file], {
      MODEL_NAME: 'gpt',
      GANTRY_MASTER_KEY: 'master-key-that-is-long-enough',
    });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('configuration is valid');
    expect(result.stdout).toContain('alias: gpt');
    expect(result.stdout).not.toContain('supersecret');
    expect(result.stdout).not.toContain('hunter2');
    expect(result.stdout).not.toContain('master-key-that-is-long');
    expect(result.stdout).toContain('postgres://gantry:****@db:5432/gantry');
  });

  it('rejects an invalid file in config check with status 78', () => {
    const file = writeTempConfig('server: { port: -1 }\n');
    const result = gantry(['config', 'check', '-c', file]);
    expect(result.status).toBe(78);
    expect(result.stderr).toMatch(/server\.port: /);
  });

  it('refuses a key limit its table cannot hold before touching the database', () => {
    const result = gantry(['keys', 'create', '--name', 'too-large', '--tpm', '3000000000'], {
      DATA_DIR: '/nonexistent/gantry-cli-test',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("option '--tpm <n>' argument '3000000000' is invalid");
    expect(result.stderr).toContain('expected a positive integer up to 2147483647');
  });

  it('prints its version and help', () => {
    expect(gantry(['version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = gantry(['--help']);
    expect(help.status).toBe(0);
    for (const command of ['serve', 'config', 'healthcheck', 'version'])
      expect(help.stdout).toContain(command);
    expect(gantry(['serve', '--help']).stdout).toContain('--port');
  });
});
