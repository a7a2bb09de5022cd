import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { ChatCompletion } from '../providers/openai-types.js';

/** Stored completions by cache key, with a TTL. */
export interface ResponseCache {
  get(key: string): Promise<ChatCompletion | undefined>;
  set(key: string, completion: ChatCompletion, ttlMs: number): Promise<void>;
}

/** In-process LRU, for a single gateway without Redis. */
export function createMemoryResponseCache(maxEntries: number): ResponseCache {
  const entries = new LRUCache<string, ChatCompletion>({ max: maxEntries });
  return {
    async get(key) {
      return entries.get(key);
    },
    async set(key, completion, ttlMs) {
      entries.set(key, completion, { ttl: ttlMs });
    },
  };
}

/** Shared by every replica through Redis (entries expire with PX). */
export function createRedisResponseCache(redis: () => Redis, prefix: string): ResponseCache {
  return {
    async get(key) {
      const stored = await redis().get(`${prefix}${key}`);
      return stored ? (JSON.parse(stored) as ChatCompletion) : undefined;
    },
    async set(key, completion, ttlMs) {
      await redis().set(`${prefix}${key}`, JSON.stringify(completion), 'PX', ttlMs);
    },
  };
}
