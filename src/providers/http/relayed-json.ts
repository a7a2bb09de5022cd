/**
 * The upstream's own JSON text of a stream chunk that is relayed unchanged. Parsing is needed to
 * inspect a chunk (usage, choices, errors), but writing it back needs no JSON.stringify: the text
 * the upstream sent is reused, which is a large part of the per-chunk cost of a stream.
 *
 * The text rides on the chunk under a symbol (invisible to JSON.stringify and Object.keys) rather
 * than in a WeakMap: a WeakMap entry per relayed chunk cost 3 % of a busy stream relay's CPU, in
 * sets and in the collector's ephemeron work. The record names the object it was made for, so a copy
 * made by spreading a chunk (which copies the symbol) is serialised afresh, never relayed as the
 * original's text.
 */
const RELAYED = Symbol('gantry.relayedJson');

interface Relayed {
  readonly owner: object;
  readonly text: string;
}

/** Remembers `text` as the JSON of `chunk`, unless it spans lines (SSE `data:` must be one line). */
export function rememberRelayedJson(chunk: object, text: string): void {
  if (text.indexOf('\n') === -1 && text.indexOf('\r') === -1) {
    (chunk as { [RELAYED]?: Relayed })[RELAYED] = { owner: chunk, text };
  }
}

/** The JSON to write for `chunk`: the upstream's text when it is unchanged, else a serialisation. */
export function relayedJson(chunk: object): string {
  const relayed = (chunk as { [RELAYED]?: Relayed })[RELAYED];
  return relayed !== undefined && relayed.owner === chunk ? relayed.text : JSON.stringify(chunk);
}
