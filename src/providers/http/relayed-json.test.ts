import { describe, expect, it } from 'vitest';
import { relayedJson, rememberRelayedJson } from './relayed-json.js';

describe('relayed chunk JSON', () => {
  it("reuses the upstream's text byte for byte", () => {
    const text = '{"id":"c1",  "choices":[{"index":0,"delta":{"content":"é"}}]}';
    const chunk = JSON.parse(text) as object;
    rememberRelayedJson(chunk, text);
    expect(relayedJson(chunk)).toBe(text);
  });

  it('serialises chunks it has no text for', () => {
    expect(relayedJson({ id: 'c2' })).toBe('{"id":"c2"}');
  });

  it('never reuses text that spans lines (it would break the data: framing)', () => {
    const text = '{"id":"c3",\n"choices":[]}';
    const chunk = JSON.parse(text) as object;
    rememberRelayedJson(chunk, text);
    expect(relayedJson(chunk)).toBe('{"id":"c3","choices":[]}');
  });
});

describe('relayed chunk JSON on copies', () => {
  it('serialises a spread copy afresh instead of reusing the original text', () => {
    const text = '{"id":"c4","model":"upstream-name"}';
    const chunk = JSON.parse(text) as { id: string; model: string };
    rememberRelayedJson(chunk, text);
    const renamed = { ...chunk, model: 'alias' };
    expect(relayedJson(renamed)).toBe('{"id":"c4","model":"alias"}');
    expect(JSON.stringify(chunk)).toBe(text);
    expect(Object.keys(chunk)).toEqual(['id', 'model']);
  });
});
