import { createRequire } from 'node:module';

/**
 * `node:http`, loaded with `require`. An ES module `import` of it cost 40–60 ms at start on Node 24
 * (measured alone) instead of 3: to build the ES module's namespace Node reads every export, and three of them
 * (`WebSocket`, `MessageEvent`, `CloseEvent`) are getters that load all of Node's internal undici
 * (nodejs/node#59686). Gantry does not use those; a cold start and every `gantry healthcheck` paid
 * for them. Type-only imports of `node:http` are fine as they are (erased at build).
 */
export const http: typeof import('node:http') = createRequire(import.meta.url)('node:http');
