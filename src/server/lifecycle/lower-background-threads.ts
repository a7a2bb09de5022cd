import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How V8's platform threads (garbage collection helpers, background compilers) are named. */
const V8_BACKGROUND_THREAD = /^V8Worker/;

/**
 * Lowers the scheduling priority of V8's background threads by `niceOffset` relative to the event
 * loop. On a pod with one core (or a CPU limit), concurrent marking, parallel scavenging and
 * optimising compilers otherwise take turns with the event loop for the same core, and every
 * request that arrives meanwhile waits for its share: bursts of 10–100 ms in the latency tail. At a
 * lower priority they use the time the event loop leaves idle, and still run when it is busy.
 *
 * Linux only (per-thread nice via /proc/self/task), and only where the runtime names its threads
 * (Node.js 24 does; Node.js 20 does not, and is left as it is). Raising a nice value needs no
 * privilege, so this works in a container with every capability dropped.
 *
 * Returns how many threads were lowered.
 */
export function lowerBackgroundThreads(niceOffset: number): number {
  if (niceOffset <= 0 || process.platform !== 'linux') return 0;
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  const target = Math.min(19, getPriority() + niceOffset);
  let lowered = 0;
  for (const task of tasks) {
    try {
      if (!V8_BACKGROUND_THREAD.test(readFileSync(`/proc/self/task/${task}/comm`, 'utf8'))) continue;
      // On Linux, setpriority(PRIO_PROCESS, tid) applies to that one thread.
      setPriority(Number(task), target);
      lowered++;
    } catch {
      // the thread ended meanwhile, or this system does not allow it: it keeps its priority
    }
  }
  return lowered;
}
