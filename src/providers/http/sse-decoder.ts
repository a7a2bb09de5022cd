/** One server-sent event: `event` is the `event:` field (undefined when absent), `data` its joined data lines. */
export interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

const LF = 10;
const CR = 13;

/**
 * An incremental SSE parser (WHATWG event-stream rules) over text that arrives in arbitrary pieces.
 * `push` returns the events completed by that piece; `end` flushes what the stream left behind.
 */
export function createSseParser() {
  let partialLine = '';
  // A piece that ended in \r may be followed by a piece starting with the \n of the same \r\n.
  let skipLeadingLf = false;
  let eventName: string | undefined;
  let data: string | undefined;

  const takeLine = (line: string, events: SseEvent[]) => {
    if (line === '') {
      if (data !== undefined) events.push({ event: eventName, data });
      eventName = undefined;
      data = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment, e.g. keep-alive */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (field === 'event') eventName = value;
    // `id` and `retry` only matter to reconnecting browsers; Gantry never reconnects a stream.
  };

  return {
    push(text: string): SseEvent[] {
      const events: SseEvent[] = [];
      if (text === '') return events;
      let start = 0;
      if (skipLeadingLf && text.charCodeAt(0) === LF) start = 1;
      skipLeadingLf = false;
      for (let index = start; index < text.length; index++) {
        const code = text.charCodeAt(index);
        if (code !== LF && code !== CR) continue;
        const piece = text.slice(start, index);
        takeLine(partialLine === '' ? piece : partialLine + piece, events);
        partialLine = '';
        if (code === CR) {
          if (index + 1 === text.length) skipLeadingLf = true;
          else if (text.charCodeAt(index + 1) === LF) index++;
        }
        start = index + 1;
      }
      if (start < text.length) partialLine += text.slice(start);
      return events;
    },

    /**
     * Ends the stream. Unlike a browser, a complete event missing only its blank line is still
     * delivered, so a sloppy upstream's final `data: [DONE]` is not mistaken for a cut stream.
     */
    end(): SseEvent[] {
      const events: SseEvent[] = [];
      if (partialLine !== '') takeLine(partialLine, events);
      partialLine = '';
      takeLine('', events);
      return events;
    },
  };
}

/**
 * Bytes to server-sent events, synchronously: `decode` takes each piece as it arrives (split lines
 * and split UTF-8 sequences are carried over), `end` flushes what the stream left behind.
 */
export function createSseDecoder() {
  const decoder = new TextDecoder('utf-8');
  const parser = createSseParser();
  return {
    decode: (chunk: Uint8Array): SseEvent[] => parser.push(decoder.decode(chunk, { stream: true })),
    end(): SseEvent[] {
      const tail = decoder.decode();
      return tail === '' ? parser.end() : [...parser.push(tail), ...parser.end()];
    },
  };
}

/** Decodes a byte stream into server-sent events, whatever the chunking (split lines, split UTF-8). */
export async function* decodeSse(source: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = createSseDecoder();
  for await (const chunk of source) yield* decoder.decode(chunk);
  yield* decoder.end();
}
