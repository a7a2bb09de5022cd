import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'gantry-wasm-tier-'));

/**
 * Opens the embedded database in a process of its own (V8's flags are per process), runs the same
 * queries enough times for V8 to optimize the hot functions if tier-up is on, and returns V8's
 * compilation trace: one line per compiled function, naming the compiler.
 */
async function compilationTrace(wasmTierUp: boolean): Promise<string> {
  const dataDir = mkdtempSync(join(scratch, 'data-'));
  const client = pathToFileURL(join(REPO_ROOT, 'dist/storage/pglite-worker-client.js')).href;
  const script = join(scratch, `probe-${wasmTierUp}.mjs`);
  writeFileSync(
    script,
    `
    import { openEmbeddedDatabase } from ${JSON.stringify(client)};
    const database = await openEmbeddedDatabase(${JSON.stringify(join(dataDir, 'pglite'))}, {
      sharedBuffers: '16MB',
      wasmTierUp: ${wasmTierUp},
    });
    for (let i = 0; i < 300; i++) {
      await database.query('select count(*) from generate_series(1, 2000) g where g % 7 = $1', [i % 7]);
    }
    await database.close();
  `,
  );
  const { stdout } = await run(process.execPath, ['--trace-wasm-compilation-times', script], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return stdout;
}

const count = (trace: string, compiler: RegExp) =>
  trace.split('\n').filter((line) => line.startsWith('Compiled function') && compiler.test(line)).length;

describe("the embedded database's WebAssembly tier (database.wasm_tier_up)", () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('stays on the baseline compiler by default, and is optimized where it runs hot when turned on', async () => {
    const off = await compilationTrace(false);
    expect(count(off, /using Liftoff/)).toBeGreaterThan(100);
    expect(count(off, /using Turbo/)).toBe(0);
    // The same work with tier-up on: V8 optimizes the hot functions, so the trace above would show it.
    const on = await compilationTrace(true);
    expect(count(on, /using Turbo/)).toBeGreaterThan(0);
  }, 240_000);
});
