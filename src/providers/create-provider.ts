import type { Deployment } from '../config/load.js';
import { createAnthropicProvider } from './anthropic/index.js';
import type { Provider } from './contract.js';
import { createMockProvider } from './mock/index.js';
import { createOpenAICompatibleProvider } from './openai-compatible/index.js';

/** Builds the provider adapter for one deployment. */
export function createProvider(deployment: Deployment): Provider {
  switch (deployment.provider) {
    case 'mock':
      return createMockProvider(deployment);
    case 'anthropic':
      return createAnthropicProvider(deployment);
    case 'gemini':
      // Gemini's OpenAI-compatible endpoint serves chat, streams, tools and embeddings.
      return createOpenAICompatibleProvider(deployment);
    default:
      return createOpenAICompatibleProvider(deployment);
  }
}
