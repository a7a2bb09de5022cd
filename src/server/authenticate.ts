import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors/gateway-error.js';

/** Who is calling. `keyId` is a public identifier, never the secret. */
export interface Principal {
  readonly kind: 'anonymous' | 'master' | 'virtual';
  readonly keyId: string | undefined;
  /** Model aliases this caller may use; undefined means all. */
  readonly allowedAliases: readonly string[] | undefined;
}

/** Authenticates API requests; the state issue plugs in virtual keys behind the same interface. */
export interface Authenticator {
  authenticate(request: FastifyRequest): Principal | Promise<Principal>;
}

export const ANONYMOUS: Principal = { kind: 'anonymous', keyId: undefined, allowedAliases: undefined };
export const MASTER: Principal = { kind: 'master', keyId: 'master', allowedAliases: undefined };

/** The bearer token of a request, from `Authorization: Bearer …` or `x-api-key`. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header);
    return match ? match[1]!.trim() : undefined;
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

// One-shot hash: no Hash object per request (a third cheaper than createHash().update().digest()).
const digest = (value: string) => hash('sha256', value, 'buffer');

/** Constant-time comparison of two secrets (hashed first so lengths never leak). */
export function secretsEqual(left: string, right: string): boolean {
  return timingSafeEqual(digest(left), digest(right));
}

/**
 * A constant-time check against one fixed secret, whose digest is computed once: the request path
 * then hashes only the candidate.
 */
export function secretMatcher(secret: string): (candidate: string) => boolean {
  const expected = digest(secret);
  return (candidate) => timingSafeEqual(digest(candidate), expected);
}

/** Checks the master key when one is configured; open (anonymous) otherwise — dev mode only. */
export function createMasterKeyAuthenticator(masterKey: string | undefined): Authenticator {
  const isMasterKey = masterKey === undefined ? undefined : secretMatcher(masterKey);
  return {
    authenticate(request) {
      if (masterKey === undefined) return ANONYMOUS;
      const token = bearerToken(request);
      if (token === undefined) {
        throw new GatewayError(
          'missing_api_key',
          'You did not provide an API key. Send it as "Authorization: Bearer YOUR_KEY".',
        );
      }
      if (!isMasterKey!(token)) throw new GatewayError('invalid_api_key', 'Incorrect API key provided.');
      return MASTER;
    },
  };
}

/** 403 unless the principal may use the alias. */
export function assertAliasAllowed(principal: Principal | undefined, alias: string): void {
  const allowed = principal?.allowedAliases;
  if (allowed && !allowed.includes(alias)) {
    throw new GatewayError('permission_denied', `This API key is not allowed to use model ${alias}.`, {
      param: 'model',
    });
  }
}
