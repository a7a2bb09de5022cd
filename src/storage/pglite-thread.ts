import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { binaryArraySerializers } from './pglite-binary-arrays.js';
import type { PgliteRequest, PgliteResponse, PgliteThreadData } from './pglite-worker-client.js';

/**
 * The embedded database's own thread. PGlite runs Postgres as WebAssembly on the thread that calls
 * it; on the main thread its start (seconds) and every query would stall the event loop, and with it
 * probes, streams and every request. Here it only ever blocks itself.
 */
const port = parentPort!;
const { directory, sharedBuffers } = workerData as PgliteThreadData;

// Requests before bookkeeping: on a busy core a usage batch (tens of milliseconds of WebAssembly)
// would otherwise take turns with the event loop and show up in the latency tail. Nice 10 gives this
// thread about a tenth of a contended core, still far more than usage writes need. On Linux this
// lowers this thread only; where it is not allowed, the thread keeps the process's priority.
try {
  setPriority(10);
} catch {
  // not permitted here: no harm, only no priority difference
}

function errorFields(error: unknown) {
  const source = error as Record<string, unknown>;
  const fields: Record<string, unknown> = { message: String(source?.message ?? error) };
  for (const key of ['code', 'detail', 'hint', 'severity', 'constraint', 'table', 'column', 'schema']) {
    if (source?.[key] !== undefined) fields[key] = source[key];
  }
  return fields;
}

try {
  // pgvector, for RAG (src/rag); loading it does not create it in the database.
  const database = await PGlite.create(directory, {
    // Where Gantry's tables have always been: PGlite 0.3, which Gantry used first, connected to
    // template1; later versions default to postgres, where a data directory from then looks empty.
    database: 'template1',
    extensions: { vector },
    // On the command line, so it holds over postgresql.conf; PGlite's own start parameters kept.
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`],
  });
  // Array parameters in binary (see pglite-binary-arrays.ts); PGlite's types say a serializer returns
  // text, but a Uint8Array is sent as it is, in binary format.
  const serializers = binaryArraySerializers(database.serializers) as unknown as Record<
    number,
    (value: unknown) => string
  >;
  port.on('message', async (request: PgliteRequest) => {
    let response: PgliteResponse;
    try {
      if (request.kind === 'exec') {
        const results = await database.exec(request.sql);
        const last = results.at(-1);
        response = { id: request.id, rows: last?.rows ?? [], affectedRows: last?.affectedRows };
      } else if (request.kind === 'query') {
        const result = await database.query(request.sql, request.params, { serializers });
        response = { id: request.id, rows: result.rows, affectedRows: result.affectedRows };
      } else if (request.kind === 'heap') {
        const heap = getHeapStatistics();
        response = { id: request.id, heap: { used: heap.used_heap_size, total: heap.total_heap_size } };
      } else {
        await database.close();
        response = { id: request.id, rows: [] };
      }
    } catch (error) {
      response = { id: request.id, error: errorFields(error) };
    }
    port.postMessage(response);
    if (request.kind === 'close') port.close();
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: errorFields(error) });
}
