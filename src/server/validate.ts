import type { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';

/** Formats a zod issue path as a JSON path: messages[0].content */
export function jsonPath(path: readonly PropertyKey[]): string {
  let result = '';
  for (const key of path) {
    if (typeof key === 'number') result += `[${key}]`;
    else result += result === '' ? String(key) : `.${String(key)}`;
  }
  return result;
}

/** Validates a request body; a failure is a 400 naming the JSON path of the first bad field. */
export function validate<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.', { param: null });
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = jsonPath(issue.path);
  const field = path === '' ? 'request body' : `'${path}'`;
  const message =
    issue.code === 'invalid_type' && issue.input === undefined
      ? `Missing required parameter: ${field}.`
      : issue.code === 'unrecognized_keys'
        ? `Unrecognized request argument supplied: ${issue.keys.join(', ')}`
        : `Invalid value for ${field}: ${issue.message}`;
  return fail(message, path);
}

function fail(message: string, path: string): never {
  throw new GatewayError('invalid_request', message, { param: path === '' ? null : path });
}
