import type { Deployment } from '../../config/load.js';
import type { Provider } from '../contract.js';

// PLACEHOLDER — being written by the providers helper.
export function createAnthropicProvider(deployment: Deployment): Provider {
  throw new Error(`provider ${deployment.provider} not implemented yet`);
}
