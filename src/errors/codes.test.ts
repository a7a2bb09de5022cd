import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './codes.js';

const documentation = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('the error catalogue', () => {
  it('is documented in docs/errors.md, row for row, with the same status and type', () => {
    const rows = new Map<string, string[]>();
    for (const line of documentation.split('\n')) {
      const cells = line.split('|').map((cell) => cell.trim());
      const code = /^`([a-z_]+)`$/.exec(cells[1] ?? '')?.[1];
      if (code) rows.set(code, cells.slice(2));
    }
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      const [status, type, retryable] = rows.get(code)!;
      if (!status!.startsWith('upstream')) expect(status, code).toBe(String(entry.status));
      expect(type, code).toBe(entry.type);
      expect(retryable, code).toBe(entry.retryable ? 'yes' : 'no');
    }
  });
});
