import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createEventLoopMonitor } from './event-loop-monitor.js';

function blockFor(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy-wait: simulates a handler that hogs the event loop
  }
}

describe('createEventLoopMonitor', () => {
  it('reports little lag on an idle loop', async () => {
    const monitor = createEventLoopMonitor(20);
    await sleep(100);
    expect(monitor.lagMs()).toBeLessThan(200);
    monitor.stop();
  });

  it('reports a blocked loop, both while overdue and after the late tick', async () => {
    const monitor = createEventLoopMonitor(20);
    await sleep(50);
    blockFor(300);
    // The tick is overdue now: the monitor sees it before the timer has had a chance to run.
    expect(monitor.lagMs()).toBeGreaterThanOrEqual(250);
    await sleep(5);
    expect(monitor.lagMs()).toBeGreaterThanOrEqual(250);
    await sleep(100);
    expect(monitor.lagMs()).toBeLessThan(250);
    monitor.stop();
  });
});
