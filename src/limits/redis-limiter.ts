import type { Redis } from 'ioredis';
import type { Limiter, LimitSpec, ReservationResult } from './limiter.js';

/**
 * Per limit: a sorted set of reservation ids scored by time and a hash of their costs plus a
 * running `~total`. One script prunes, checks every limit and charges all of them at once, so
 * concurrent gateways can never both take the last tokens. Time comes from the Redis server.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]
local n = tonumber(ARGV[2])
local allowed = 1
local retry = 0
local out = {}
for i = 1, n do
  local z, h = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, cost, window = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2])
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now - window)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do
      freed = freed + tonumber(redis.call('HGET', h, member) or '0')
      redis.call('HDEL', h, member)
    end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now - window)
    redis.call('HINCRBY', h, '~total', -freed)
  end
  local total = tonumber(redis.call('HGET', h, '~total') or '0')
  local oldest = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
  local reset = 0
  if #oldest > 0 then reset = tonumber(oldest[2]) + window - now end
  if total + cost > limit then
    allowed = 0
    local wait = window
    if cost <= limit then
      local entries = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
      local freed = 0
      for j = 1, #entries, 2 do
        freed = freed + tonumber(redis.call('HGET', h, entries[j]) or '0')
        if total - freed + cost <= limit then
          wait = tonumber(entries[j + 1]) + window - now
          break
        end
      end
    end
    if wait > retry then retry = wait end
  end
  out[2 * i - 1] = total
  out[2 * i] = reset
end
if allowed == 1 then
  for i = 1, n do
    local z, h = KEYS[2 * i - 1], KEYS[2 * i]
    local cost, window = tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2])
    redis.call('ZADD', z, now, id)
    redis.call('HSET', h, id, cost)
    redis.call('HINCRBY', h, '~total', cost)
    redis.call('PEXPIRE', z, window * 2)
    redis.call('PEXPIRE', h, window * 2)
    out[2 * i - 1] = out[2 * i - 1] + cost
    if out[2 * i] == 0 then out[2 * i] = window end
  end
end
table.insert(out, 1, retry)
table.insert(out, 1, allowed)
return out
`;

const ADJUST = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
local delta = tonumber(ARGV[2]) - tonumber(old)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], '~total', delta)
return delta
`;

interface LimiterCommands {
  gantryReserve(...args: Array<string | number>): Promise<number[]>;
  gantryAdjust(...args: Array<string | number>): Promise<number>;
}

/** Limits shared by every gateway process through Redis. Keys are hash-tagged for Redis Cluster. */
export function createRedisLimiter(redis: Redis, prefix = 'gantry:rl:'): Limiter {
  redis.defineCommand('gantryReserve', { lua: RESERVE });
  redis.defineCommand('gantryAdjust', { lua: ADJUST, numberOfKeys: 1 });
  const commands = redis as unknown as LimiterCommands;
  const keysOf = (key: string) => [`${prefix}{${key}}:z`, `${prefix}{${key}}:h`] as const;

  return {
    async reserve(specs: readonly LimitSpec[], reservationId: string): Promise<ReservationResult> {
      const keys = specs.flatMap((spec) => keysOf(spec.key));
      const args = specs.flatMap((spec) => [spec.limit, Math.ceil(spec.cost), spec.windowMs]);
      const reply = await commands.gantryReserve(keys.length, ...keys, reservationId, specs.length, ...args);
      return {
        allowed: reply[0] === 1,
        retryAfterMs: Number(reply[1]),
        states: specs.map((_, index) => ({
          used: Number(reply[2 + index * 2]),
          resetMs: Number(reply[3 + index * 2]),
        })),
      };
    },
    async adjust(spec: Omit<LimitSpec, 'limit'>, reservationId: string) {
      await commands.gantryAdjust(keysOf(spec.key)[1], reservationId, Math.ceil(spec.cost));
    },
    async close() {},
  };
}
