import { PGlite } from '@electric-sql/pglite';

/**
 * A short-lived child process that creates the embedded database's data directory (Postgres's
 * initdb, as a second WebAssembly program) and exits. Run in the gateway's own process, initdb's
 * memory would stay there for good: a thread's freed memory goes back to the process's allocator,
 * not to the system (measured: about 100 MB more RSS on the first start).
 */
const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: pglite-initdb <data directory>\n');
  process.exit(2);
}
const database = await PGlite.create(directory);
await database.close();
