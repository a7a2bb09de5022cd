import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';
import type { ChatCompletionChunk, ChatMessage } from '../providers/openai-types.js';
import type { CollectionStore, SearchHit } from './collection-store.js';
import type { RagMetrics } from './rag-metrics.js';
import { embedQuery, ownerOf } from './rag-routes.js';

/** A source used to answer, as returned in `gantry_sources` (its number is the citation [n]). */
export interface RagSource extends SearchHit {
  readonly index: number;
}

export const DEFAULT_RAG_TEMPLATE =
  'Answer with the help of the numbered sources below. Cite the sources you use as [1], [2], … ' +
  'right after the statements they support. If the sources do not contain the answer, say so.\n\n' +
  'Sources:\n{context}';

/** Per-request extension: `"gantry_rag": {"collection": "…", "top_k": 5}`. */
const requestRagSchema = z
  .object({
    collection: z.string().min(1),
    top_k: z.number().int().min(1).max(50).default(5),
    template: z.string().optional(),
  })
  .strict();

const sourcesByRequest = new WeakMap<FastifyRequest, RagSource[]>();

/** The sources injected into this request's prompt, if any. */
export function ragSourcesOf(request: FastifyRequest): RagSource[] | undefined {
  return sourcesByRequest.get(request);
}

/** A completion with the sources used added as the `gantry_sources` extension field. */
export function withRagSources<T extends object>(request: FastifyRequest, completion: T): T {
  const sources = sourcesByRequest.get(request);
  return sources ? { ...completion, gantry_sources: sources } : completion;
}

/** A trailing stream chunk (no choices) carrying `gantry_sources`, sent before [DONE]. */
export function ragSourcesChunk(
  request: FastifyRequest,
  last: ChatCompletionChunk | undefined,
): string | undefined {
  const sources = sourcesByRequest.get(request);
  if (!sources) return undefined;
  return JSON.stringify({
    id: last?.id ?? `chatcmpl-${request.id}`,
    object: 'chat.completion.chunk',
    created: last?.created ?? Math.floor(Date.now() / 1000),
    model: last?.model ?? '',
    choices: [],
    gantry_sources: sources,
  });
}

/** Numbered sources, as the template's {context}. */
export function formatContext(hits: readonly SearchHit[]): string {
  return hits
    .map((hit, position) => `[${position + 1}] ${hit.document_name ?? hit.document_id}\n${hit.text}`)
    .join('\n\n');
}

function lastUserText(messages: readonly ChatMessage[]): string | undefined {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    return message.content
      .flatMap((part) => (part.type === 'text' && typeof part.text === 'string' ? [part.text] : []))
      .join('\n');
  }
  return undefined;
}

/**
 * Retrieval-augmented chat, as a preHandler on POST /v1/chat/completions: when the alias has `rag`
 * settings or the request carries `gantry_rag`, the last user message is searched in the collection
 * and the best chunks go in as a system message with numbered sources. The extension field is
 * removed before the request goes upstream; the route adds `gantry_sources` to the answer.
 */
export function registerRagChat(
  app: FastifyInstance,
  dependencies: { store: () => CollectionStore; embeddingModel: string; metrics: RagMetrics },
) {
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'POST' || request.routeOptions.url !== '/v1/chat/completions') return;
    const body = request.body as Record<string, unknown> | null;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.messages)) return;
    const extension = body.gantry_rag;
    delete body.gantry_rag;
    const alias = typeof body.model === 'string' ? aliasSettings(request, body.model) : undefined;
    let settings: { collection: string; top_k: number; template?: string | undefined } | undefined;
    let owners: string[] = [ownerOf(request)];
    if (extension !== undefined && extension !== null && extension !== false) {
      const parsed = requestRagSchema.safeParse(extension);
      if (!parsed.success) {
        throw new GatewayError(
          'invalid_request',
          `Invalid value for 'gantry_rag': ${parsed.error.issues[0]?.message}`,
          {
            param: 'gantry_rag',
          },
        );
      }
      settings = parsed.data;
    } else if (alias && extension !== false) {
      settings = alias;
      // The operator configured this collection for everyone using the alias.
      owners = [...new Set([ownerOf(request), 'master', 'anonymous'])];
    }
    if (!settings) return;
    const messages = body.messages as ChatMessage[];
    const query = lastUserText(messages);
    if (!query) return;
    const vector = await embedQuery(request, dependencies, query);
    const hits = await dependencies
      .store()
      .search(owners, settings.collection, { vector, topK: settings.top_k });
    const sources = hits.map((hit, position) => ({ index: position + 1, ...hit }));
    sourcesByRequest.set(request, sources);
    const content = (settings.template ?? DEFAULT_RAG_TEMPLATE).replace('{context}', formatContext(hits));
    const leadingSystem = messages.findIndex(
      (message) => message.role !== 'system' && message.role !== 'developer',
    );
    const at = leadingSystem === -1 ? messages.length : leadingSystem;
    body.messages = [...messages.slice(0, at), { role: 'system', content }, ...messages.slice(at)];
  });
}

function aliasSettings(request: FastifyRequest, model: string) {
  try {
    return request.gantry.runtime.router.resolveAlias(model).rag;
  } catch {
    return undefined; // the route answers the unknown model
  }
}
