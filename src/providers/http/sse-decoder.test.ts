import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSse, type SseEvent } from './sse-decoder.js';

const FIXTURES = new URL('../../../test/providers/__fixtures__/', import.meta.url);
const SSE_FIXTURES = ['openai', 'anthropic'].flatMap((provider) =>
  readdirSync(new URL(`${provider}/`, FIXTURES))
    .filter((file) => file.endsWith('.sse'))
    .map((file) => `${provider}/${file}`),
);

async function* pieces(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

async function decode(parts: Uint8Array[]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of decodeSse(pieces(parts))) events.push(event);
  return events;
}

const bytes = (text: string) => Buffer.from(text, 'utf8');

/** Splits at the given offsets. */
function splitAt(data: Uint8Array, offsets: number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, data.length]) {
    parts.push(data.subarray(start, offset));
    start = offset;
  }
  return parts;
}

/** A small deterministic PRNG (mulberry32), so a failing split can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let value = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodeSse', () => {
  it('reads data, event names, comments and multi-line data', async () => {
    const text =
      ': keep-alive\n\nevent: ping\ndata: {}\n\ndata: line one\ndata: line two\n\ndata:no space\n\ndata\n\n';
    expect(await decode([bytes(text)])).toEqual([
      { event: 'ping', data: '{}' },
      { event: undefined, data: 'line one\nline two' },
      { event: undefined, data: 'no space' },
      { event: undefined, data: '' },
    ]);
  });

  it('treats \\r\\n, \\r and \\n alike, even when a \\r\\n is split across chunks', async () => {
    const expected = [
      { event: 'a', data: '1' },
      { event: undefined, data: '2' },
    ];
    expect(await decode([bytes('event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n')])).toEqual(expected);
    expect(await decode([bytes('event: a\rdata: 1\r\rdata: 2\r\r')])).toEqual(expected);
    expect(
      await decode([bytes('event: a\r'), bytes('\ndata: 1\r'), bytes('\n\r'), bytes('\ndata: 2\r\n\r\n')]),
    ).toEqual(expected);
  });

  it('ignores events without data, unknown fields, id and retry, and a leading BOM', async () => {
    const text = '\uFEFFevent: lonely\n\nid: 7\nretry: 100\nfoo: bar\ndata: kept\n\n';
    expect(await decode([bytes(text)])).toEqual([{ event: undefined, data: 'kept' }]);
  });

  it('delivers a final event that lacks its blank line at the end of the stream', async () => {
    expect(await decode([bytes('data: 1\n\ndata: [DONE]')])).toEqual([
      { event: undefined, data: '1' },
      { event: undefined, data: '[DONE]' },
    ]);
  });

  it('never splits a multi-byte UTF-8 character, wherever the chunk boundary falls', async () => {
    const data = bytes('data: ça こんにちは 👋\n\n');
    for (let offset = 1; offset < data.length; offset++) {
      expect(await decode(splitAt(data, [offset]))).toEqual([{ event: undefined, data: 'ça こんにちは 👋' }]);
    }
    expect(
      await decode(
        splitAt(
          data,
          Array.from({ length: data.length - 1 }, (_, index) => index + 1),
        ),
      ),
    ).toEqual([{ event: undefined, data: 'ça こんにちは 👋' }]);
  });

  it('reads \\n, \\r and \\r\\n mixed in one stream, however it is split', async () => {
    const text = 'data: 1\ndata: 2\r\revent: e\r\ndata: 3\n\ndata: 4\r\n\n: c\r\ndata:\r\r';
    const expected = [
      { event: undefined, data: '1\n2' },
      { event: 'e', data: '3' },
      { event: undefined, data: '4' },
      { event: undefined, data: '' },
    ];
    const data = bytes(text);
    expect(await decode([data])).toEqual(expected);
    for (let offset = 1; offset < data.length; offset++) {
      expect(await decode(splitAt(data, [offset]))).toEqual(expected);
    }
    const next = random(7);
    for (let round = 0; round < 50; round++) {
      const offsets = Array.from({ length: data.length - 1 }, (_, index) => index + 1).filter(
        () => next() < 0.3,
      );
      expect(await decode(splitAt(data, offsets))).toEqual(expected);
    }
  });

  describe.each(SSE_FIXTURES)('fixture %s', (name) => {
    const data = readFileSync(new URL(name, FIXTURES));

    it('decodes the same when split in two at every byte boundary', async () => {
      const whole = await decode([data]);
      expect(whole.length).toBeGreaterThan(0);
      for (let offset = 1; offset < data.length; offset++) {
        expect(await decode(splitAt(data, [offset]))).toEqual(whole);
      }
    });

    it('decodes the same byte by byte and in random pieces', async () => {
      const whole = await decode([data]);
      const everyByte = Array.from({ length: data.length - 1 }, (_, index) => index + 1);
      expect(await decode(splitAt(data, everyByte))).toEqual(whole);
      const next = random(data.length);
      for (let round = 0; round < 50; round++) {
        const offsets = everyByte.filter(() => next() < 0.1);
        expect(await decode(splitAt(data, offsets))).toEqual(whole);
      }
    });

    it('decodes the same with \\r\\n or \\r line endings', async () => {
      const whole = await decode([data]);
      const text = data.toString('utf8');
      for (const ending of ['\r\n', '\r']) {
        const converted = bytes(text.replaceAll('\n', ending));
        expect(await decode(splitAt(converted, [1, 7, 100, converted.length - 1]))).toEqual(whole);
      }
    });
  });
});
