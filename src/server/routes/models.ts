import type { FastifyInstance } from 'fastify';
import type { ModelAlias } from '../../config/load.js';
import { GatewayError } from '../../errors/gateway-error.js';

function describe(alias: ModelAlias, created: number) {
  return { id: alias.alias, object: 'model' as const, created, owned_by: alias.ownedBy };
}

/** GET /v1/models and /v1/models/{id}: the aliases this caller may use. */
export function registerModels(app: FastifyInstance, startedAt: number) {
  const created = Math.floor(startedAt / 1000);
  app.get('/v1/models', async (request) => {
    const allowed = request.gantry.principal?.allowedAliases;
    const aliases = request.gantry.runtime.config.models.filter(
      (alias) => !allowed || allowed.includes(alias.alias),
    );
    return { object: 'list', data: aliases.map((alias) => describe(alias, created)) };
  });
  app.get<{ Params: { id: string } }>('/v1/models/*', async (request) => {
    // Model ids may contain slashes (e.g. "meta-llama/Llama-3.1-8B"), hence the wildcard.
    const id = decodeURIComponent((request.params as Record<string, string>)['*'] ?? '');
    const allowed = request.gantry.principal?.allowedAliases;
    const alias = request.gantry.runtime.config.models.find((model) => model.alias === id);
    if (!alias || (allowed && !allowed.includes(id))) {
      throw new GatewayError(
        'model_not_found',
        `The model \`${id}\` does not exist or you do not have access to it.`,
        {
          param: 'model',
        },
      );
    }
    return describe(alias, created);
  });
}
