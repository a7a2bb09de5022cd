import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/gateway-error.js';
import { documentType } from './document-type.js';
import { contentHash, extractText } from './extract-text.js';

describe('documentType', () => {
  it('takes the declared type, else the extension, else plain text', () => {
    expect(documentType('text/markdown; charset=utf-8', undefined)).toBe('text/markdown');
    expect(documentType(undefined, 'notes/Guide.MD')).toBe('text/markdown');
    expect(documentType('application/octet-stream', 'page.htm')).toBe('text/html');
    expect(documentType(undefined, 'readme')).toBe('text/plain');
  });

  it('refuses other types with unsupported_media_type (415)', () => {
    let caught: unknown;
    try {
      documentType('application/pdf', 'paper.pdf');
    } catch (error) {
      caught = error;
    }
    expect(isGatewayError(caught) && caught.status).toBe(415);
  });
});

describe('extractText', () => {
  it('turns HTML into text without markup, scripts or styles, keeping heading case', () => {
    const text = extractText(
      '<html><head><style>p{}</style></head><body><h1>Kiln Guide</h1><p>Fire at <b>cone 6</b>.</p><script>x()</script></body></html>',
      'text/html',
    );
    expect(text).toContain('Kiln Guide');
    expect(text).toContain('Fire at cone 6.');
    expect(text).not.toMatch(/<|x\(\)|p\{\}/);
  });

  it('normalises line endings, so the same text hashes the same', () => {
    expect(extractText('a\r\nb\rc', 'text/plain')).toBe('a\nb\nc');
    expect(contentHash(extractText('a\r\nb', 'text/plain'))).toBe(contentHash('a\nb'));
  });
});
