import { z } from 'zod';

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "5s", "2m", "1h", "90d" or a bare number of milliseconds into milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (UNITS_MS[match[2] ?? 'ms'] ?? 1));
}

/** A zod type for durations written as "5s" / "250ms" / number of ms; parses to milliseconds. */
export const duration = z.union([z.number(), z.string()]).transform((value, context) => {
  const parsed = parseDuration(value);
  if (parsed === undefined) {
    context.addIssue({
      code: 'custom',
      message: `invalid duration ${JSON.stringify(value)}; expected e.g. "250ms", "5s", "2m" or a number of milliseconds`,
    });
    return z.NEVER;
  }
  return parsed;
});
