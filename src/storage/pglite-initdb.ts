import { setPriority } from 'node:os';
import { PGlite } from '@electric-sql/pglite';

/**
 * A short-lived child process that creates the embedded database's data directory (Postgres's
 * initdb, as a second WebAssembly program) and exits. On the database thread, PGlite keeps that
 * program loaded (measured: 702 MB RSS on a first start against 259 on the next); even on a thread of
 * its own that then ends, 50–90 MB stay, since a thread's freed memory goes back to the process's
 * allocator, not to the system. A process that exits leaves nothing behind.
 */
const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: pglite-initdb <data directory>\n');
  process.exit(2);
}
// Background work, like the database thread: requests served meanwhile (the first ones need no
// database) go first on a shared core.
try {
  setPriority(10);
} catch {
  // not permitted here: the process keeps its priority
}
// Started by fork(): when the gateway goes away (killed, crashed), this exits at its next chance
// (initdb itself is synchronous and runs to its end); what it made stays under the staging name,
// which the next start clears.
process.on('disconnect', () => process.exit(1));
const database = await PGlite.create(directory);
await database.close();
process.exit(0);
