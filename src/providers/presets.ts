import type { Deployment } from '../config/load.js';
import type { ProviderKind } from '../config/schema.js';

/** Providers served by the openai-compatible adapter. */
export type OpenAICompatibleKind = Exclude<ProviderKind, 'anthropic' | 'mock'>;

export type Endpoint = 'chat/completions' | 'embeddings';

export interface Preset {
  /** Where the API lives when the deployment names no base_url; undefined where it must name one. */
  readonly baseUrl: string | undefined;
  /** How the API key travels: `Authorization: Bearer …` or Azure's `api-key` header. */
  readonly auth: 'bearer' | 'api-key';
  /** The path of an endpoint below the base URL. */
  readonly path: (endpoint: Endpoint, deployment: Deployment) => string;
}

const standardPath = (endpoint: Endpoint) => `/${endpoint}`;

const bearer = (baseUrl: string | undefined): Preset => ({ baseUrl, auth: 'bearer', path: standardPath });

/** Every openai-compatible provider: its default base URL, auth header and endpoint paths. */
export const PRESETS: Readonly<Record<OpenAICompatibleKind, Preset>> = {
  openai: bearer('https://api.openai.com/v1'),
  azure: {
    // base_url is the resource endpoint (https://x.openai.azure.com); the deployment's `model` is
    // the Azure deployment name, addressed in the path, with the API version in the query.
    baseUrl: undefined,
    auth: 'api-key',
    path: (endpoint, deployment) =>
      `/openai/deployments/${encodeURIComponent(deployment.model)}/${endpoint}` +
      `?api-version=${encodeURIComponent(deployment.apiVersion ?? '')}`,
  },
  vllm: bearer(undefined),
  ollama: bearer('http://localhost:11434/v1'),
  llamacpp: bearer(undefined),
  tgi: bearer(undefined),
  lmstudio: bearer('http://localhost:1234/v1'),
  groq: bearer('https://api.groq.com/openai/v1'),
  together: bearer('https://api.together.xyz/v1'),
  openrouter: bearer('https://openrouter.ai/api/v1'),
  mistral: bearer('https://api.mistral.ai/v1'),
  deepseek: bearer('https://api.deepseek.com'),
  gemini: bearer('https://generativelanguage.googleapis.com/v1beta/openai'),
  'openai-compatible': bearer(undefined),
};

/** The full URL of an endpoint for a deployment: its base_url (or the preset's) plus the path. */
export function endpointUrl(deployment: Deployment, endpoint: Endpoint): URL {
  const preset = PRESETS[deployment.provider as OpenAICompatibleKind];
  if (preset === undefined) throw new Error(`provider ${deployment.provider} is not openai-compatible`);
  const base = deployment.baseUrl ?? preset.baseUrl;
  if (base === undefined) {
    throw new Error(`deployment ${deployment.id}: base_url is required for provider ${deployment.provider}`);
  }
  return new URL(base.replace(/\/+$/, '') + preset.path(endpoint, deployment));
}

/** The auth header for a deployment's key; none when it has no key (local servers). */
export function authHeaders(deployment: Deployment): Record<string, string> {
  const preset = PRESETS[deployment.provider as OpenAICompatibleKind];
  if (deployment.apiKey === undefined) return {};
  return preset?.auth === 'api-key'
    ? { 'api-key': deployment.apiKey }
    : { authorization: `Bearer ${deployment.apiKey}` };
}
