import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import type { PgliteRequest, PgliteResponse } from './pglite-worker-client.js';

/**
 * The embedded database's own thread. PGlite runs Postgres as WebAssembly on the thread that calls
 * it; on the main thread its start (seconds) and every query would stall the event loop, and with it
 * probes, streams and every request. Here it only ever blocks itself.
 */
const port = parentPort!;
const { directory } = workerData as { directory: string };

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
  const database = await PGlite.create(directory, { extensions: { vector } });
  port.on('message', async (request: PgliteRequest) => {
    let response: PgliteResponse;
    try {
      if (request.kind === 'exec') {
        const results = await database.exec(request.sql);
        const last = results.at(-1);
        response = { id: request.id, rows: last?.rows ?? [], affectedRows: last?.affectedRows };
      } else if (request.kind === 'query') {
        const result = await database.query(request.sql, request.params);
        response = { id: request.id, rows: result.rows, affectedRows: result.affectedRows };
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
