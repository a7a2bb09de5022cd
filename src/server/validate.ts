import type { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';

type Issue = z.core.$ZodIssue;

/** Formats a zod issue path as a JSON path: messages[0].content */
export function jsonPath(path: readonly PropertyKey[]): string {
  let result = '';
  for (const key of path) {
    if (typeof key === 'number') result += `[${key}]`;
    else result += result === '' ? String(key) : `.${String(key)}`;
  }
  return result;
}

// Codes that say the value itself did not fit (wrong type, wrong literal): no progress into it.
const MISMATCH = new Set(['invalid_type', 'invalid_value', 'invalid_union']);

/** How far into the value a failing union branch got; ties go to issues past the type check. */
function progress(issue: Issue): [number, number] {
  const mismatch = MISMATCH.has(issue.code);
  return [issue.path.length + (mismatch ? 0 : 1), mismatch ? 0 : 1];
}

/**
 * The most specific explanation of an issue. A union only says "Invalid input"; the branch that got
 * furthest into the value (e.g. the content-part array, failing at `[0].text`, or the string array
 * that is merely too long) names the real problem, so its issue is reported with an absolute path.
 */
function specific(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  let best: Issue | undefined;
  let bestProgress: [number, number] = [-1, -1];
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first === undefined) continue;
    const candidate = specific(first);
    const [depth, tie] = progress(candidate);
    if (depth > bestProgress[0] || (depth === bestProgress[0] && tie > bestProgress[1])) {
      best = candidate;
      bestProgress = [depth, tie];
    }
  }
  if (best === undefined || bestProgress[0] === 0) {
    // No branch got past the value itself: say which kinds of value would have been accepted.
    const expected = [
      ...new Set(issue.errors.flatMap((branch) => branch.map((nested) => expectedOf(nested)))),
    ].filter((kind): kind is string => kind !== undefined);
    if (expected.length === 0) return issue;
    return { ...issue, message: `expected ${expected.join(' or ')}` };
  }
  return { ...best, path: [...issue.path, ...best.path] } as Issue;
}

function expectedOf(issue: Issue): string | undefined {
  return issue.code === 'invalid_type' ? String(issue.expected) : undefined;
}

/** Validates a request body; a failure is a 400 naming the JSON path of the first bad field. */
export function validate<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.', { param: null });
  }
  // reportInput: an issue must show whether the field was absent or present with a wrong value.
  const result = schema.safeParse(body, { reportInput: true });
  if (result.success) return result.data;
  const issue = specific(result.error.issues[0]!);
  if (issue.code === 'unrecognized_keys') {
    const path = jsonPath([...issue.path, issue.keys[0]!]);
    return fail(`Unrecognized request argument supplied: ${issue.keys.join(', ')}`, path);
  }
  const path = jsonPath(issue.path);
  const field = path === '' ? 'request body' : `'${path}'`;
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const message = missing
    ? `Missing required parameter: ${field}.`
    : `Invalid value for ${field}: ${issue.message}`;
  return fail(message, path);
}

function fail(message: string, path: string): never {
  throw new GatewayError('invalid_request', message, { param: path === '' ? null : path });
}
