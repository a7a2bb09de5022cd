import { describe, expect, it } from 'vitest';
import { authHeaders, endpointUrl, type OpenAICompatibleKind, PRESETS } from '../../src/providers/presets.js';
import { testDeployment } from './test-deployment.js';

describe('presets', () => {
  it.each([
    ['openai', 'https://api.openai.com/v1/chat/completions'],
    ['ollama', 'http://localhost:11434/v1/chat/completions'],
    ['lmstudio', 'http://localhost:1234/v1/chat/completions'],
    ['groq', 'https://api.groq.com/openai/v1/chat/completions'],
    ['together', 'https://api.together.xyz/v1/chat/completions'],
    ['openrouter', 'https://openrouter.ai/api/v1/chat/completions'],
    ['mistral', 'https://api.mistral.ai/v1/chat/completions'],
    ['deepseek', 'https://api.deepseek.com/chat/completions'],
    ['gemini', 'https://generativelanguage.googleapis.com/v1beta/openai/chat/completions'],
  ] as const)('%s defaults to %s', (provider, url) => {
    expect(endpointUrl(testDeployment({ provider }), 'chat/completions').href).toBe(url);
  });

  it('lets base_url override the preset, trailing slash or not', () => {
    const deployment = testDeployment({ provider: 'openai', baseUrl: 'https://proxy.internal/openai/v1/' });
    expect(endpointUrl(deployment, 'embeddings').href).toBe('https://proxy.internal/openai/v1/embeddings');
  });

  it.each(['vllm', 'llamacpp', 'tgi', 'openai-compatible', 'azure'] as const)(
    '%s requires a base_url',
    (provider) => {
      expect(PRESETS[provider as OpenAICompatibleKind].baseUrl).toBeUndefined();
      expect(() => endpointUrl(testDeployment({ provider }), 'chat/completions')).toThrow(
        /base_url is required/,
      );
    },
  );

  it('sends Azure keys as api-key and everyone else’s as a bearer token', () => {
    expect(authHeaders(testDeployment({ provider: 'azure', apiKey: 'k' }))).toEqual({ 'api-key': 'k' });
    expect(authHeaders(testDeployment({ provider: 'groq', apiKey: 'k' }))).toEqual({
      authorization: 'Bearer k',
    });
    expect(authHeaders(testDeployment({ provider: 'vllm' }))).toEqual({});
  });
});
