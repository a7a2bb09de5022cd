import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';

/** A piece of a document's text with its place in it (character offsets, end exclusive). */
export interface TextChunk {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
}

export interface ChunkSettings {
  /** Tokens (cl100k_base) per chunk, at most. */
  readonly chunkSize: number;
  /** Tokens shared by neighbouring chunks, so a sentence cut at a boundary is whole in one of them. */
  readonly chunkOverlap: number;
}

export type Chunker = (text: string, contentType: string) => Promise<TextChunk[]>;

/**
 * Token-aware chunking: LangChain's recursive splitter (headings, paragraphs, lines, words) with
 * lengths measured by a real tokenizer. The splitter returns strings; their offsets are found by
 * searching forward from the previous chunk's start, since chunks come in order and may overlap.
 */
export function createChunker(settings: ChunkSettings): Chunker {
  const options = {
    chunkSize: settings.chunkSize,
    chunkOverlap: Math.min(settings.chunkOverlap, Math.floor(settings.chunkSize / 2)),
    lengthFunction: (text: string) => countTokens(text),
  };
  const markdown = RecursiveCharacterTextSplitter.fromLanguage('markdown', options);
  const plain = new RecursiveCharacterTextSplitter(options);
  return async (text, contentType) => {
    const splitter = contentType === 'text/markdown' ? markdown : plain;
    const pieces = await splitter.splitText(text);
    const chunks: TextChunk[] = [];
    let cursor = 0;
    for (const piece of pieces) {
      let start = text.indexOf(piece, cursor);
      if (start === -1) start = text.indexOf(piece);
      if (start === -1) throw new Error('chunker produced text that is not in the document');
      chunks.push({ text: piece, start, end: start + piece.length, tokens: countTokens(piece) });
      cursor = start + 1;
    }
    return chunks;
  };
}
