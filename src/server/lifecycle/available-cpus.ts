import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** CPUs allowed by a cgroup quota: v2 `cpu.max` ("max 100000" or "150000 100000"), else v1 cfs files. */
export function cgroupCpuLimit(read: (path: string) => string | undefined = readOrUndefined) {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2) {
    if (v2[0] === 'max') return undefined;
    const quota = Number(v2[0]);
    const period = Number(v2[1]);
    return quota > 0 && period > 0 ? quota / period : undefined;
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim());
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim());
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/**
 * CPUs this process may use: the affinity mask (availableParallelism) capped by the cgroup CPU
 * quota, rounded up (a 1.5-CPU quota still gets 2 workers), at least 1. A container sees the host's
 * cores in os.cpus(); forking one worker per host core under a small quota only adds throttling.
 */
export function availableCpus(read?: (path: string) => string | undefined): number {
  const limit = cgroupCpuLimit(read);
  const cores = availableParallelism();
  return Math.max(1, limit === undefined ? cores : Math.min(cores, Math.ceil(limit)));
}
