import { createHash } from 'node:crypto';
import { convert } from 'html-to-text';
import { GatewayError } from '../errors/gateway-error.js';

/** Document types that can be ingested; PDF is not among them (see docs/rag.md). */
export const DOCUMENT_TYPES = ['text/plain', 'text/markdown', 'text/html'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** Normalises a declared content type or a file name to one of DOCUMENT_TYPES. */
export function documentType(declared: string | undefined, name: string | undefined): DocumentType {
  const type = declared?.split(';')[0]?.trim().toLowerCase();
  if (type === 'text/plain' || type === 'text/markdown' || type === 'text/html') return type;
  if (type === 'text/x-markdown') return 'text/markdown';
  if (type && type !== 'application/octet-stream') {
    throw new GatewayError(
      'unsupported_media_type',
      `Documents of type ${type} cannot be ingested; send text/plain, text/markdown or text/html.`,
      { param: 'content_type' },
    );
  }
  const extension = name?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (extension === 'md' || extension === 'markdown' || extension === 'mdx') return 'text/markdown';
  if (extension === 'html' || extension === 'htm') return 'text/html';
  return 'text/plain';
}

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
