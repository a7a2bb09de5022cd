import type { Deployment } from '../config/load.js';
import type { Usage } from '../providers/openai-types.js';

/** USD for one request, from the deployment's price per million tokens (0 when unpriced). */
export function usageCost(price: Deployment['price'], usage: Usage | undefined): number {
  if (!price || !usage) return 0;
  return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000;
}
