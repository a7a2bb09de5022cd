import { createHash } from 'node:crypto';
import { convert } from 'html-to-text';
import type { DocumentType } from './document-type.js';

/** The text that gets chunked, embedded and stored; search offsets point into it. */
export function extractText(content: string, type: DocumentType): string {
  if (type !== 'text/html') return content.replace(/\r\n?/g, '\n');
  return convert(content, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      // Upper-cased headings would no longer match the words people search for.
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
        selector,
        options: { uppercase: false },
      })),
      { selector: 'table', options: { uppercaseHeaderCells: false } },
    ],
  });
}

/** Identity of a document's content within a collection: the same text is ingested once. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
