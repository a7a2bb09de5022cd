import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { createChunker } from './chunk-text.js';

const paragraph = (seed: number) =>
  Array.from({ length: 40 }, (_, index) => `word${(seed * 31 + index * 7) % 97}`).join(' ');
const markdown = Array.from(
  { length: 12 },
  (_, index) => `## Part ${index}\n\n${paragraph(index)}.\n\n${paragraph(index + 50)}.`,
).join('\n\n');

describe('createChunker', () => {
  it('cuts Markdown into chunks of at most chunk_size tokens whose offsets point at their text', async () => {
    const chunker = createChunker({ chunkSize: 64, chunkOverlap: 8 });
    const chunks = await chunker(markdown, 'text/markdown');
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) {
      expect(markdown.slice(chunk.start, chunk.end)).toBe(chunk.text);
      expect(chunk.tokens).toBe(countTokens(chunk.text));
      expect(chunk.tokens).toBeLessThanOrEqual(64);
    }
    // In order, and together they cover every word of the text.
    for (let index = 1; index < chunks.length; index++) {
      expect(chunks[index]!.start).toBeGreaterThan(chunks[index - 1]!.start);
      expect(chunks[index]!.start).toBeLessThanOrEqual(chunks[index - 1]!.end + 2);
    }
  });

  it('overlaps neighbouring chunks when a paragraph is longer than a chunk', async () => {
    const chunker = createChunker({ chunkSize: 32, chunkOverlap: 8 });
    const text = paragraph(3).repeat(3);
    const chunks = await chunker(text, 'text/plain');
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.slice(1).some((chunk, index) => chunk.start < chunks[index]!.end)).toBe(true);
  });

  it('returns nothing for empty text', async () => {
    expect(await createChunker({ chunkSize: 64, chunkOverlap: 8 })('', 'text/plain')).toEqual([]);
  });
});
