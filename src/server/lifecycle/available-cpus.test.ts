import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { availableCpus, cgroupCpuLimit } from './available-cpus.js';

const files = (entries: Record<string, string>) => (path: string) => entries[path];

describe('cgroupCpuLimit', () => {
  it('reads a cgroup v2 quota', () => {
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(1.5);
  });
  it('treats "max" as no quota', () => {
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });
  it('falls back to cgroup v1 cfs files; -1 means no quota', () => {
    const v1 = { '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' };
    expect(cgroupCpuLimit(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000' }))).toBe(3);
    expect(cgroupCpuLimit(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1' }))).toBeUndefined();
  });
});

describe('availableCpus', () => {
  it('caps the cores by the quota, rounding a fractional quota up', () => {
    expect(availableCpus(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(1);
    expect(availableCpus(files({ '/sys/fs/cgroup/cpu.max': '100000000 100000' }))).toBe(
      availableParallelism(),
    );
    expect(availableCpus(files({}))).toBe(availableParallelism());
  });
});
