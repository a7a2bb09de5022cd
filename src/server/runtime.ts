import type { Config } from '../config/load.js';
import type { Router } from '../routing/router.js';

/** The configuration and the router built from it; swapped as one on hot reload. */
export interface Runtime {
  readonly config: Config;
  readonly router: Router;
}

/**
 * Holds the current runtime. A request reads `current` once when it starts and keeps that
 * snapshot, so a reload never changes the rules under a request in flight.
 */
export interface RuntimeHolder {
  readonly current: Runtime;
}

export function createRuntimeHolder(initial: Runtime) {
  let current = initial;
  return {
    get current() {
      return current;
    },
    /** Installs a new runtime and returns the previous one (to be closed once drained). */
    swap(next: Runtime): Runtime {
      const previous = current;
      current = next;
      return previous;
    },
  };
}
