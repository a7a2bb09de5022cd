import { setFlagsFromString } from 'node:v8';

/**
 * V8's flags for the embedded database's WebAssembly (Postgres, about 10 MB of it): with tier-up on,
 * the functions that run hot are compiled again by the optimizing compiler in the background; off,
 * everything stays on the baseline compiler (Liftoff), which compiles as it loads.
 *
 * Off by default because of what that recompilation costs on Node 24: V8's optimizing compiler for
 * WebAssembly (Turboshaft) takes about 600 MB of compiler memory for one of Postgres's functions
 * (measured: 601 MB for one 100 KB function, 0.5–1.2 s of CPU), a few seconds after every start, and
 * far more while creating a data directory (1.1 GB; nodejs/node#63421 is the same compiler running
 * out of memory on other modules; Node 20's compiler needs a fifth of it). In a container with a
 * 512 MiB limit that is an out-of-memory kill on every start. On the baseline tier a start peaks
 * at about 190 MB; usage writes cost a few microseconds more per request, and vector search on the
 * embedded database is about 1.7 times slower (database.wasm_tier_up turns the tier-up back on for
 * that).
 */
export function wasmTierUpFlags(enabled: boolean): string[] {
  return enabled
    ? ['--wasm-dynamic-tiering', '--wasm-tier-up']
    : ['--no-wasm-dynamic-tiering', '--no-wasm-tier-up'];
}

/**
 * Sets those flags in this process. V8's flags are per process and a WebAssembly module takes them
 * when it is compiled, so this is called before the database's thread starts; both directions are
 * set, so a process that opens the database again with the other setting gets it.
 */
export function applyWasmTierUp(enabled: boolean): void {
  for (const flag of wasmTierUpFlags(enabled)) setFlagsFromString(flag);
}
