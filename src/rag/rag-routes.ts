import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';
import { validate } from '../server/validate.js';
import type { CollectionStore, NewDocument } from './collection-store.js';
import { documentType } from './document-type.js';
import { embedTexts } from './embed-texts.js';
import type { RagMetrics } from './rag-metrics.js';

const metadataSchema = z.record(z.string(), z.unknown());
const createCollectionSchema = z
  .object({ name: z.string().min(1).max(200), metadata: metadataSchema.default({}) })
  .strict();
const documentSchema = z
  .object({
    content: z.string(),
    name: z.string().max(1000).optional(),
    content_type: z.string().optional(),
    metadata: metadataSchema.default({}),
  })
  .strict();
const addDocumentsSchema = z.union([
  documentSchema,
  z.object({ documents: z.array(documentSchema).min(1).max(1000) }).strict(),
]);
export const searchSchema = z
  .object({
    query: z.string().min(1),
    top_k: z.number().int().min(1).max(100).default(5),
    filter: z
      .object({ metadata: metadataSchema.optional(), document_ids: z.array(z.string()).max(1000).optional() })
      .strict()
      .optional(),
  })
  .strict();

/** Text bodies are accepted as one document; its name and metadata come from the query string. */
const TEXT_TYPES = ['text/plain', 'text/markdown', 'text/x-markdown', 'text/html'];

export interface RagRouteDependencies {
  readonly store: () => CollectionStore;
  readonly embeddingModel: string;
  readonly metrics: RagMetrics;
}

/** Who owns what a request creates or reads: the virtual key, else the master key, else anonymous (dev). */
export function ownerOf(request: FastifyRequest): string {
  return request.gantry.principal?.keyId ?? 'anonymous';
}

/** The embedding of a search query, through the current router. */
export async function embedQuery(
  request: FastifyRequest,
  dependencies: Pick<RagRouteDependencies, 'embeddingModel' | 'metrics'>,
  text: string,
): Promise<number[]> {
  const { vectors, tokens } = await embedTexts(
    request.gantry.runtime.router,
    dependencies.embeddingModel,
    [text],
    {
      batchSize: 1,
      signal: AbortSignal.timeout(60_000),
      requestId: request.id,
    },
  );
  dependencies.metrics.embeddingTokens.inc({ model: dependencies.embeddingModel, purpose: 'query' }, tokens);
  return vectors[0]!;
}

/** /v1/collections: collections, their documents (queued for ingestion) and search. */
export function registerRagRoutes(app: FastifyInstance, dependencies: RagRouteDependencies) {
  const { store } = dependencies;
  return app.register(async (scope) => {
    for (const type of TEXT_TYPES) {
      scope.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    }

    scope.post('/v1/collections', async (request, reply) => {
      const body = validate(createCollectionSchema, request.body);
      const { collection, created } = await store().create(ownerOf(request), body.name, body.metadata);
      reply.code(created ? 201 : 200);
      return collection;
    });

    scope.get('/v1/collections', async (request) => ({
      object: 'list',
      data: await store().list(ownerOf(request)),
    }));

    scope.get<{ Params: { id: string } }>('/v1/collections/:id', async (request) =>
      store().get(ownerOf(request), request.params.id),
    );

    scope.delete<{ Params: { id: string } }>('/v1/collections/:id', async (request) => ({
      id: await store().remove(ownerOf(request), request.params.id),
      object: 'collection.deleted',
      deleted: true,
    }));

    scope.post<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>(
      '/v1/collections/:id/documents',
      async (request, reply) => {
        const documents = parseDocuments(request);
        const results = await store().addDocuments(ownerOf(request), request.params.id, documents);
        reply.code(results.some((result) => !result.deduplicated) ? 202 : 200);
        return typeof request.body === 'object' && request.body !== null && 'documents' in request.body
          ? { object: 'list', data: results }
          : results[0];
      },
    );

    scope.get<{ Params: { id: string }; Querystring: { limit?: string; after?: string } }>(
      '/v1/collections/:id/documents',
      async (request) => {
        const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100) || 100));
        const page = await store().listDocuments(ownerOf(request), request.params.id, {
          limit,
          after: request.query.after,
        });
        return { object: 'list', ...page };
      },
    );

    scope.get<{ Params: { id: string; documentId: string }; Querystring: { include?: string } }>(
      '/v1/collections/:id/documents/:documentId',
      async (request) =>
        store().getDocument(
          ownerOf(request),
          request.params.id,
          request.params.documentId,
          request.query.include === 'content',
        ),
    );

    scope.delete<{ Params: { id: string; documentId: string } }>(
      '/v1/collections/:id/documents/:documentId',
      async (request) => {
        await store().removeDocument(ownerOf(request), request.params.id, request.params.documentId);
        return { id: request.params.documentId, object: 'collection.document.deleted', deleted: true };
      },
    );

    scope.post<{ Params: { id: string } }>('/v1/collections/:id/search', async (request) => {
      const body = validate(searchSchema, request.body);
      // Resolve first: an unknown collection is a 404 without spending an embedding call.
      await store().get(ownerOf(request), request.params.id);
      const vector = await embedQuery(request, dependencies, body.query);
      const data = await store().search(ownerOf(request), request.params.id, {
        vector,
        topK: body.top_k,
        metadata: body.filter?.metadata,
        documentIds: body.filter?.document_ids,
      });
      return { object: 'list', data };
    });
  });
}

function parseDocuments(
  request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>,
): NewDocument[] {
  if (typeof request.body === 'string') {
    const name = request.query.name;
    let metadata: Record<string, unknown> = {};
    if (request.query.metadata) {
      try {
        metadata = metadataSchema.parse(JSON.parse(request.query.metadata));
      } catch {
        throw new GatewayError('invalid_request', 'The metadata query parameter must be a JSON object.', {
          param: 'metadata',
        });
      }
    }
    return [
      { name, type: documentType(request.headers['content-type'], name), content: request.body, metadata },
    ];
  }
  const body = validate(addDocumentsSchema, request.body);
  const documents = 'documents' in body ? body.documents : [body];
  return documents.map((document) => ({
    name: document.name,
    type: documentType(document.content_type, document.name),
    content: document.content,
    metadata: document.metadata,
  }));
}
