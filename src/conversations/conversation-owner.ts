import type { Principal } from '../server/authenticate.js';

/**
 * Whose conversations a caller sees: its virtual key id, `master` for the master key, and one
 * shared `anonymous` scope for open dev mode. Rotating a key keeps its id, so its conversations.
 */
export function conversationOwner(principal: Principal | undefined): string {
  return principal?.keyId ?? 'anonymous';
}
