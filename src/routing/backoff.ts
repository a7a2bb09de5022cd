/**
 * Exponential backoff with full jitter (AWS architecture blog): a random delay in
 * [0, min(max, base × 2^(retry-1))]. An upstream Retry-After wins when it is longer.
 */
export function backoffDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterSeconds === undefined || !Number.isFinite(retryAfterSeconds)) return jittered;
  return Math.max(jittered, Math.ceil(retryAfterSeconds * 1000));
}
