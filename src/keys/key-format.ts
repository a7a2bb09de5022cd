import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^gk-([0-9a-f]{12})-([A-Za-z0-9_-]{32})$/;

/** A new virtual key: `gk-<public id>-<secret>`. Only the public id and the hash are ever stored. */
export function generateKey(publicId = randomBytes(6).toString('hex')) {
  const key = `gk-${publicId}-${randomBytes(24).toString('base64url')}`;
  return { publicId, key, hash: hashKey(key) };
}

/** The public id of a token shaped like a virtual key, else undefined. */
export function parseKey(token: string): string | undefined {
  return KEY_PATTERN.exec(token)?.[1];
}

export function looksLikeVirtualKey(token: string): boolean {
  return token.startsWith('gk-');
}

/** SHA-256, hex. The secret has 192 random bits, so a fast hash is enough (nothing to brute-force). */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** Constant-time check of a presented key against a stored hash. */
export function keyMatchesHash(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
