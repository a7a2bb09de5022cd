import { describe, expect, it } from 'vitest';
import type { Deployment, ModelAlias } from '../config/load.js';
import { selectDeployments } from './select-deployments.js';

const deployment = (id: string, weight = 1) => ({ id, weight }) as Deployment;
const alias = (strategy: ModelAlias['strategy'], deployments: Deployment[]) =>
  ({ alias: 'a', strategy, deployments }) as unknown as ModelAlias;
const ids = (list: readonly Deployment[]) => list.map((entry) => entry.id);

describe('selectDeployments', () => {
  const three = [deployment('a', 1), deployment('b', 3), deployment('c', 6)];

  it('keeps configuration order for fallback', () => {
    expect(ids(selectDeployments(alias('fallback', three), () => 0))).toEqual(['a', 'b', 'c']);
  });

  it('draws by weight for weighted, the rest following as fallbacks', () => {
    expect(
      ids(
        selectDeployments(
          alias('weighted', three),
          () => 0,
          () => 0.05,
        ),
      ),
    ).toEqual(['a', 'b', 'c']);
    expect(
      ids(
        selectDeployments(
          alias('weighted', three),
          () => 0,
          () => 0.2,
        ),
      )[0],
    ).toBe('b');
    expect(
      ids(
        selectDeployments(
          alias('weighted', three),
          () => 0,
          () => 0.99,
        ),
      ),
    ).toEqual(['c', 'b', 'a']);
    const firsts = new Map<string, number>();
    for (let draw = 0; draw < 1_000; draw++) {
      const first = selectDeployments(
        alias('weighted', three),
        () => 0,
        () => draw / 1_000,
      )[0]!.id;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect(Object.fromEntries(firsts)).toEqual({ a: 100, b: 300, c: 600 });
  });

  it('puts the deployment with the fewest requests in flight first, ties in configuration order', () => {
    const inflight: Record<string, number> = { a: 2, b: 0, c: 0 };
    expect(ids(selectDeployments(alias('least-inflight', three), (entry) => inflight[entry.id]!))).toEqual([
      'b',
      'c',
      'a',
    ]);
  });
});
