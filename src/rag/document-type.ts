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
