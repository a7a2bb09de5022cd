import { createHash } from 'node:crypto';

const WORDS = (
  'gantry relays this answer from its mock provider so you can test streaming retries routing ' +
  'limits and metrics without any upstream key the text is deterministic for a given prompt and ' +
  'model which keeps tests and benchmarks repeatable across runs and machines'
).split(' ');

/** A deterministic seed from strings (same prompt and model, same answer). */
export function seedOf(...parts: string[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return digest.readUInt32BE(0);
}

/** Deterministic mock answer words. The first words always say that this is mock output. */
export function mockWords(seed: number, count: number): string[] {
  const words = ['[mock', 'output]'];
  let state = seed || 1;
  while (words.length < count) {
    // xorshift32: tiny, fast and deterministic
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words.push(WORDS[(state >>> 0) % WORDS.length]!);
  }
  return words.slice(0, count);
}

/**
 * A deterministic embedding that reflects lexical overlap: hashed bag of lower-cased word tokens
 * (and word bigrams), L2-normalised. Texts sharing words get a high cosine similarity.
 */
export function mockEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const tokens = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const add = (feature: string, weight: number) => {
    const digest = createHash('md5').update(feature).digest();
    const index = digest.readUInt32BE(0) % dimensions;
    vector[index]! += digest[4]! & 1 ? weight : -weight;
  };
  for (let index = 0; index < tokens.length; index++) {
    add(tokens[index]!, 1);
    if (index > 0) add(`${tokens[index - 1]} ${tokens[index]}`, 0.5);
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}
