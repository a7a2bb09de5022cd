import type { Agent as AgentClass } from 'undici';
import api from 'undici/lib/api/index.js';
import Agent from 'undici/lib/dispatcher/agent.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';

// What undici's index does for every dispatcher: `request()`, `stream()` and the rest are its API
// functions on Dispatcher's prototype.
Object.assign(Dispatcher.prototype, api);

/**
 * undici's Agent, without the rest of undici. `import { Agent } from 'undici'` loads all of it (fetch,
 * WebSocket, EventSource, caches, mocks) and, by reading `globalThis.Headers` once, Node's own copy of
 * undici as well: about 45 ms of a 290 ms cold start, before the listener opens. These three files are
 * what the index combines into an Agent with `request()`. undici has no exports map and its version is
 * locked; a layout that moves fails the build (`npm run bundle` cannot resolve it).
 */
export const UndiciAgent: typeof AgentClass = Agent;
