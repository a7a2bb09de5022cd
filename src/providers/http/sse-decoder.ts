/** One server-sent event: `event` is the `event:` field (undefined when absent), `data` its joined data lines. */
export interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

const LF = 10;
/** TextDecoder's options for a piece of a longer stream, made once rather than per piece. */
const STREAMING = { stream: true } as const;

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
    // The usual line first: one slice instead of three.
    if (line.startsWith('data: ')) {
      const value = line.slice(6);
      data = data === undefined ? value : `${data}\n${value}`;
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
      // Line ends are found with indexOf (native) rather than a loop over every character. Each
      // search resumes only once the line end it found is passed, so a piece is scanned once for
      // each (never once per line: a piece of many \r-only lines stays linear); most streams never
      // send a \r, so its search runs once per piece.
      let nextCr = text.indexOf('\r', start);
      let nextLf = text.indexOf('\n', start);
      for (;;) {
        if (nextCr !== -1 && nextCr < start) nextCr = text.indexOf('\r', start);
        if (nextLf !== -1 && nextLf < start) nextLf = text.indexOf('\n', start);
        let index = nextCr !== -1 && (nextLf === -1 || nextCr < nextLf) ? nextCr : nextLf;
        if (index === -1) break;
        const piece = text.slice(start, index);
        takeLine(partialLine === '' ? piece : partialLine + piece, events);
        partialLine = '';
        if (index === nextCr) {
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
    decode: (chunk: Uint8Array): SseEvent[] => parser.push(decoder.decode(chunk, STREAMING)),
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
