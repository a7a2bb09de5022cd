import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Router } from '../routing/router.js';
import { newRouteInfo } from '../routing/router.js';

export interface EmbedResult {
  readonly vectors: number[][];
  readonly tokens: number;
}

/** Embeds texts through the router (retries, fallback and breakers included), in batches. */
export async function embedTexts(
  router: Pick<Router, 'embed'>,
  alias: string,
  texts: readonly string[],
  options: { batchSize: number; signal: AbortSignal; requestId?: string },
): Promise<EmbedResult> {
  const vectors: number[][] = [];
  let tokens = 0;
  for (let start = 0; start < texts.length; start += options.batchSize) {
    const batch = texts.slice(start, start + options.batchSize);
    const response = await router.embed(
      alias,
      { model: alias, input: batch },
      {
        signal: options.signal,
        requestId: options.requestId ?? `rag_${randomUUID()}`,
        traceparent: undefined,
        info: newRouteInfo(),
      },
    );
    const ordered = [...response.data].sort((left, right) => left.index - right.index);
    if (ordered.length !== batch.length) {
      throw new Error(
        `embedding model ${alias} returned ${ordered.length} vectors for ${batch.length} texts`,
      );
    }
    for (const item of ordered) {
      if (typeof item.embedding === 'string')
        throw new Error('embedding model returned base64; expected floats');
      vectors.push(item.embedding);
    }
    tokens += response.usage.total_tokens;
    // A local embedder (mock) never waits on I/O; let requests in between batches.
    await yieldToEventLoop();
  }
  return { vectors, tokens };
}
