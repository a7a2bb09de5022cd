import type { FastifyInstance } from 'fastify';
import { GANTRY_VERSION } from '../../version.js';

/** GET / — what this gateway is and serves. No secrets. */
export function registerInfo(app: FastifyInstance) {
  app.get('/', async (request) => {
    const { config } = request.gantry.runtime;
    return {
      name: config.app.name,
      version: GANTRY_VERSION,
      mode: config.app.mode,
      default_model: config.app.default_model,
      models: config.models.map((model) => model.alias),
      endpoints: [
        '/v1/chat/completions',
        '/v1/embeddings',
        '/v1/models',
        '/chat',
        '/health',
        '/ready',
        '/metrics',
      ],
      docs: '/openapi.json',
    };
  });
}
