import { z } from 'zod';
import { GANTRY_VERSION } from '../version.js';
import { chatCompletionRequestSchema } from './schemas/chat-completion-request.js';
import { embeddingRequestSchema } from './schemas/embedding-request.js';
import { simpleChatRequestSchema, simpleChatResponseSchema } from './schemas/simple-chat-request.js';

const errorEnvelope = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'code'],
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        param: { type: ['string', 'null'] },
        code: { type: ['string', 'null'] },
        request_id: { type: 'string' },
      },
    },
  },
};

const jsonBody = (schema: unknown) => ({ required: true, content: { 'application/json': { schema } } });
const json = (description: string, schema: unknown = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = {
  '400': json('Invalid request (the param names the JSON path)', { $ref: '#/components/schemas/Error' }),
  '401': json('Missing or invalid API key', { $ref: '#/components/schemas/Error' }),
  '404': json('Unknown model', { $ref: '#/components/schemas/Error' }),
  '429': json('Rate limited (Retry-After)', { $ref: '#/components/schemas/Error' }),
  '502': json('Upstream error', { $ref: '#/components/schemas/Error' }),
  '503': json('Overloaded or draining (Retry-After)', { $ref: '#/components/schemas/Error' }),
  '504': json('Upstream timeout', { $ref: '#/components/schemas/Error' }),
};

const conversationId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
// Also what other keys get: conversations are visible only to the key that created them.
const conversationMissing = json('No such conversation', { $ref: '#/components/schemas/Error' });

function schemaOf(schema: z.ZodType) {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    unrepresentable: 'any',
  });
  return rest;
}

/** The OpenAPI 3.1 document of every public endpoint, generated from the same zod schemas. */
export function buildOpenApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'Gantry', version: GANTRY_VERSION, description: 'OpenAI-compatible LLM gateway' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: errorEnvelope,
        ChatCompletionRequest: schemaOf(chatCompletionRequestSchema),
        EmbeddingRequest: schemaOf(embeddingRequestSchema),
        SimpleChatRequest: schemaOf(simpleChatRequestSchema),
        SimpleChatResponse: schemaOf(simpleChatResponseSchema),
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/': {
        get: { summary: 'Service information', security: [], responses: { '200': json('Service info') } },
      },
      '/health': { get: { summary: 'Liveness probe', security: [], responses: { '200': json('Alive') } } },
      '/ready': {
        get: {
          summary: 'Readiness probe (each check with status and latency)',
          security: [],
          responses: { '200': json('Ready'), '503': json('Not ready') },
        },
      },
      '/startup': {
        get: {
          summary: 'Startup probe',
          security: [],
          responses: { '200': json('Started'), '503': json('Starting') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': {} } } },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': json('OpenAPI 3.1') } },
      },
      '/v1/chat/completions': {
        post: {
          summary: 'Create a chat completion (stream: true answers with server-sent events ending in [DONE])',
          requestBody: jsonBody({ $ref: '#/components/schemas/ChatCompletionRequest' }),
          responses: {
            '200': {
              description: 'A chat.completion object, or a text/event-stream of chat.completion.chunk events',
              content: { 'application/json': { schema: { type: 'object' } }, 'text/event-stream': {} },
            },
            ...errors,
          },
        },
      },
      '/v1/conversations': {
        post: {
          summary:
            'Create a conversation ({metadata?, items?}; items are chat messages). Chat completions that name it ' +
            '(field `conversation` or header x-gantry-conversation) get its turns and append theirs',
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { '200': json('A conversation object'), '400': errors['400'], '401': errors['401'] },
        },
      },
      '/v1/conversations/{id}': {
        get: {
          summary: "Retrieve one of the caller's conversations",
          parameters: [conversationId],
          responses: { '200': json('A conversation object'), '404': conversationMissing },
        },
        delete: {
          summary: 'Delete a conversation and its items',
          parameters: [conversationId],
          responses: {
            '200': json('{id, object: "conversation.deleted", deleted: true}'),
            '404': conversationMissing,
          },
        },
      },
      '/v1/conversations/{id}/items': {
        get: {
          summary: 'List the items (stored chat messages) of a conversation, in order',
          parameters: [
            conversationId,
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            },
            { name: 'after', in: 'query', description: 'An item id (item_<n>)', schema: { type: 'string' } },
            { name: 'order', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } },
          ],
          responses: {
            '200': json('{object: "list", data, first_id, last_id, has_more}'),
            '400': errors['400'],
            '404': conversationMissing,
          },
        },
      },
      '/v1/embeddings': {
        post: {
          summary: 'Create embeddings',
          requestBody: jsonBody({ $ref: '#/components/schemas/EmbeddingRequest' }),
          responses: { '200': json('A list of embeddings'), ...errors },
        },
      },
      '/v1/models': {
        get: { summary: 'List model aliases', responses: { '200': json('A list of models') } },
      },
      '/v1/models/{id}': {
        get: {
          summary: 'Retrieve a model alias',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': json('A model'), '404': errors['404'] },
        },
      },
      '/chat': {
        post: {
          summary: 'Minimal chat for simple clients and smoke checks',
          requestBody: jsonBody({ $ref: '#/components/schemas/SimpleChatRequest' }),
          responses: {
            '200': json('The answer', { $ref: '#/components/schemas/SimpleChatResponse' }),
            '400': errors['400'],
            '502': json('Provider error', { $ref: '#/components/schemas/Error' }),
          },
        },
      },
    },
  };
}
