import { isUtf8 } from 'node:buffer';
import { GatewayError } from '../errors/gateway-error.js';

/** Deepest JSON nesting accepted; deeper documents are refused before parsing. */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function exceedsDepth(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < body.length; index++) {
    const byte = body[index];
    if (inString) {
      if (byte === BACKSLASH) index++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}

/**
 * Parses a JSON request body strictly: valid UTF-8 only (no silent U+FFFD replacement), bounded
 * nesting, and no prototype-poisoning keys. Every failure is a 400 in the error envelope.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0)
    throw new GatewayError('invalid_json', 'The request body is empty; expected a JSON object.');
  if (!isUtf8(body)) throw new GatewayError('invalid_json', 'The request body is not valid UTF-8.');
  if (exceedsDepth(body, MAX_JSON_DEPTH)) {
    throw new GatewayError('invalid_json', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  let parsed: unknown;
  try {
    const text = body.toString('utf8');
    // The reviver is slow; only pay for it when a suspicious key may appear at all, including one
    // spelled with escapes ("\u005f_proto__"), which the plain substring test would miss.
    const suspicious = text.includes('"__proto__"') || text.includes('"constructor"') || text.includes('\\u');
    parsed = suspicious ? JSON.parse(text, rejectPoisonKeys) : JSON.parse(text);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError(
      'invalid_json',
      `We could not parse the JSON body of your request: ${(error as Error).message}`,
    );
  }
  return parsed;
}

function rejectPoisonKeys(key: string, value: unknown) {
  if (key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null)) {
    throw new GatewayError('invalid_json', `The request body contains the forbidden key "${key}".`);
  }
  return value;
}
