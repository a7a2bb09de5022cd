import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors/gateway-error.js';
import {
  ANONYMOUS,
  type Authenticator,
  bearerToken,
  MASTER,
  type Principal,
  secretMatcher,
} from '../server/authenticate.js';
import type { KeyCache } from './key-cache.js';
import { keyMatchesHash, looksLikeVirtualKey, parseKey } from './key-format.js';
import type { KeyRecord } from './key-store.js';

export interface VirtualKeyAuthenticatorOptions {
  readonly masterKey: string | undefined;
  readonly keys: KeyCache;
  /** Where the authenticator leaves each virtual principal's key record for the request policy. */
  readonly records: WeakMap<Principal, KeyRecord>;
}

const INVALID = 'Incorrect API key provided.';

/**
 * The master key, or a virtual key `gk-<id>-<secret>` checked against its stored hash. Without a
 * master key (dev mode) requests without a virtual key are anonymous.
 */
export function createVirtualKeyAuthenticator(options: VirtualKeyAuthenticatorOptions): Authenticator {
  const { masterKey, keys, records } = options;
  const isMasterKey = masterKey === undefined ? undefined : secretMatcher(masterKey);

  async function virtualPrincipal(token: string, publicId: string): Promise<Principal> {
    const record = await keys.get(publicId);
    if (!record || !keyMatchesHash(token, record.secretHash)) {
      throw new GatewayError('invalid_api_key', INVALID);
    }
    if (record.revokedAt) throw new GatewayError('invalid_api_key', 'This API key has been revoked.');
    if (record.expiresAt && record.expiresAt.getTime() <= Date.now()) {
      throw new GatewayError('invalid_api_key', 'This API key has expired.');
    }
    const principal: Principal = {
      kind: 'virtual',
      keyId: record.id,
      allowedAliases: record.allowedModels ?? undefined,
    };
    records.set(principal, record);
    return principal;
  }

  return {
    // Synchronous for the master key and anonymous callers: only a virtual key needs its record.
    authenticate(request: FastifyRequest): Principal | Promise<Principal> {
      const token = bearerToken(request);
      if (token === undefined) {
        if (masterKey === undefined) return ANONYMOUS;
        throw new GatewayError(
          'missing_api_key',
          'You did not provide an API key. Send it as "Authorization: Bearer YOUR_KEY".',
        );
      }
      if (isMasterKey?.(token)) return MASTER;
      const publicId = parseKey(token);
      if (publicId === undefined) {
        if (masterKey === undefined && !looksLikeVirtualKey(token)) return ANONYMOUS;
        throw new GatewayError('invalid_api_key', INVALID);
      }
      return virtualPrincipal(token, publicId);
    },
  };
}
