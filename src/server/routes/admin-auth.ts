import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../../errors/gateway-error.js';
import { bearerToken, secretsEqual } from '../authenticate.js';

/**
 * The admin API answers only to the master key: not to virtual keys, not to anonymous callers,
 * and not at all while no master key is configured.
 */
export function assertMasterKey(request: FastifyRequest, masterKey: string | undefined): void {
  if (masterKey === undefined) {
    throw new GatewayError(
      'permission_denied',
      'The admin API is disabled: configure auth.master_key (GANTRY_MASTER_KEY) to use it.',
    );
  }
  const token = bearerToken(request);
  if (token === undefined) {
    throw new GatewayError(
      'missing_api_key',
      'The admin API needs the master key as "Authorization: Bearer …".',
    );
  }
  if (!secretsEqual(token, masterKey)) {
    if (token.startsWith('gk-')) {
      throw new GatewayError(
        'permission_denied',
        'Virtual keys cannot use the admin API; use the master key.',
      );
    }
    throw new GatewayError('invalid_api_key', 'Incorrect API key provided.');
  }
}
