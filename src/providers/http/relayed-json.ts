/**
 * The upstream's own JSON text of a stream chunk that is relayed unchanged. Parsing is needed to
 * inspect a chunk (usage, choices, errors), but writing it back needs no JSON.stringify: the text
 * the upstream sent is reused, which is a large part of the per-chunk cost of a stream.
 */
const texts = new WeakMap<object, string>();

/** Remembers `text` as the JSON of `chunk`, unless it spans lines (SSE `data:` must be one line). */
export function rememberRelayedJson(chunk: object, text: string): void {
  if (text.indexOf('\n') === -1 && text.indexOf('\r') === -1) texts.set(chunk, text);
}

/** The JSON to write for `chunk`: the upstream's text when it is unchanged, else a serialisation. */
export function relayedJson(chunk: object): string {
  return texts.get(chunk) ?? JSON.stringify(chunk);
}
