import type { Deployment, ModelAlias } from '../config/load.js';

/**
 * Orders an alias's deployments for one request: the first is tried first, the rest are fallbacks.
 * - fallback: configuration order;
 * - weighted: one weighted random draw picks the first, the others follow by weight;
 * - least-inflight: fewest requests in flight first (ties keep configuration order).
 */
export function selectDeployments(
  alias: ModelAlias,
  inflight: (deployment: Deployment) => number,
  random: () => number = Math.random,
): readonly Deployment[] {
  const deployments = alias.deployments;
  if (deployments.length === 1) return deployments;
  switch (alias.strategy) {
    case 'fallback':
      return deployments;
    case 'least-inflight':
      return [...deployments].sort((left, right) => inflight(left) - inflight(right));
    case 'weighted': {
      const remaining = [...deployments];
      const ordered: Deployment[] = [];
      while (remaining.length > 0) {
        const total = remaining.reduce((sum, deployment) => sum + deployment.weight, 0);
        let draw = random() * total;
        let index = 0;
        while (index < remaining.length - 1 && draw >= remaining[index]!.weight) {
          draw -= remaining[index]!.weight;
          index++;
        }
        ordered.push(remaining.splice(index, 1)[0]!);
      }
      return ordered;
    }
  }
}
