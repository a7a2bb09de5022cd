import type { Redis } from 'ioredis';
import type { Limiter, LimitSpec, ReservationResult } from './limiter.js';

/**
 * Per limit: a sorted set of members scored by the time their charge leaves the window, and a hash
 * of their costs plus a running `~total`. Charges are summed into time slots of a 6,000th of the
 * window (10 ms of a minute), one member each, so a window holds at most 6,000 members however many
 * requests a key makes; a charge counts from the end of its slot, so it leaves the window up to one
 * slot late, never early (a limit never admits more than it allows in any window; a retry delay
 * may be up to one slot longer than an exact window's). An adjustable charge (the token estimate)
 * is kept under its reservation id until it is adjusted, then added to its slot. One script
 * prunes, checks every limit and charges all of them at once, so concurrent gateways can never both
 * take the last tokens. Time comes from the Redis server.
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
  local a = 4 * i - 1
  local limit, cost, window = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
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
    local a = 4 * i - 1
    local cost, window = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local slot = math.max(1, math.floor(window / 6000))
    local at = math.ceil(now / slot) * slot
    local member = string.format('@%d', at)
    if ARGV[a + 3] == '1' then member = id end
    redis.call('ZADD', z, at, member)
    redis.call('HINCRBY', h, member, cost)
    redis.call('HINCRBY', h, '~total', cost)
    redis.call('PEXPIRE', z, window * 2)
    redis.call('PEXPIRE', h, window * 2)
    out[2 * i - 1] = out[2 * i - 1] + cost
    if out[2 * i] == 0 then out[2 * i] = at + window - now end
  end
end
table.insert(out, 1, retry)
table.insert(out, 1, allowed)
return out
`;

/** Replaces an adjustable charge's cost and moves it into its time slot (see RESERVE). */
const ADJUST = `
local z, h, id = KEYS[1], KEYS[2], ARGV[1]
local old = redis.call('HGET', h, id)
if not old then return 0 end
local cost = tonumber(ARGV[2])
local delta = cost - tonumber(old)
local at = tonumber(redis.call('ZSCORE', z, id))
redis.call('ZREM', z, id)
redis.call('HDEL', h, id)
if not at then
  redis.call('HINCRBY', h, '~total', -tonumber(old))
  return 0
end
local member = string.format('@%d', at)
redis.call('ZADD', z, at, member)
redis.call('HINCRBY', h, member, cost)
redis.call('HINCRBY', h, '~total', delta)
return delta
`;

interface LimiterCommands {
  gantryReserve(...args: Array<string | number>): Promise<number[]>;
  gantryAdjust(...args: Array<string | number>): Promise<number>;
}

/** Limits shared by every gateway process through Redis. Keys are hash-tagged for Redis Cluster. */
export function createRedisLimiter(redis: Redis, prefix = 'gantry:rl:'): Limiter {
  redis.defineCommand('gantryReserve', { lua: RESERVE });
  redis.defineCommand('gantryAdjust', { lua: ADJUST, numberOfKeys: 2 });
  const commands = redis as unknown as LimiterCommands;
  const keysOf = (key: string) => [`${prefix}{${key}}:z`, `${prefix}{${key}}:h`] as const;

  return {
    async reserve(specs: readonly LimitSpec[], reservationId: string): Promise<ReservationResult> {
      const keys = specs.flatMap((spec) => keysOf(spec.key));
      const args = specs.flatMap((spec) => [
        spec.limit,
        Math.ceil(spec.cost),
        spec.windowMs,
        spec.adjustable ? 1 : 0,
      ]);
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
      await commands.gantryAdjust(...keysOf(spec.key), reservationId, Math.ceil(spec.cost));
    },
    async close() {},
  };
}
