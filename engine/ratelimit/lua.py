"""The Lua scripts the Redis limiter runs: one script call (EVALSHA) per decision.

Each script touches only keys passed in KEYS, and a decision's keys share one hash tag, so the
scripts run unchanged on Redis Cluster. Time is the caller's when ARGV carries it (tests) and
Redis's own `TIME` otherwise, so gateways need no synchronised clocks.
"""

from __future__ import annotations

# Sliding-window log (see engine/ratelimit/sliding_window.py for the algorithm).
# KEYS: log_1, meta_1, ..., log_n, meta_n  (log: sorted set member "<seq>:<units>" scored by admission ms;
#       meta: hash {t = running total of units in the log, n = member sequence})
# ARGV: now_ms ('' = Redis TIME), mode ('a' acquire | 'c' check | 'd' add), count, then per window: limit, period_ms
# Returns {allowed, limit, remaining, retry_after_ms, reset_ms} for the tightest window.
WINDOW = r"""
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local mode = ARGV[2]
local count = tonumber(ARGV[3])
local need = count
if mode == 'c' or need < 1 then need = 1 end
local n = #KEYS / 2
local totals = {}
local allowed = 1
local retry = 0

local function units(member)
  return tonumber(string.match(member, ':(%d+)$'))
end

for i = 1, n do
  local log, meta = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, period = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local total = redis.call('HGET', meta, 't')
  if total then
    total = tonumber(total)
  else
    -- no totals hash (first use, or evicted): rebuild it from the log
    total = 0
    for _, m in ipairs(redis.call('ZRANGE', log, 0, -1)) do total = total + units(m) end
    if total > 0 then
      redis.call('HSET', meta, 't', total)
      redis.call('PEXPIRE', meta, period)
    end
  end
  local old = redis.call('ZRANGEBYSCORE', log, '-inf', now - period)
  if #old > 0 then
    for _, m in ipairs(old) do total = total - units(m) end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', now - period)
    redis.call('HSET', meta, 't', total)
  end
  totals[i] = total
  if mode ~= 'd' and total + need > limit then
    allowed = 0
    local wait = period
    if need <= limit then
      local excess = total + need - limit
      local freed = 0
      local entries = redis.call('ZRANGE', log, 0, excess - 1, 'WITHSCORES')
      for j = 1, #entries, 2 do
        freed = freed + units(entries[j])
        if freed >= excess then
          wait = tonumber(entries[j + 1]) + period - now
          break
        end
      end
    end
    if wait > retry then retry = wait end
  end
end

if (allowed == 1 and mode ~= 'c') or mode == 'd' then
  if count > 0 then
    for i = 1, n do
      local log, meta = KEYS[2 * i - 1], KEYS[2 * i]
      local period = tonumber(ARGV[3 + 2 * i])
      local seq = redis.call('HINCRBY', meta, 'n', 1)
      redis.call('ZADD', log, now, seq .. ':' .. count)
      totals[i] = totals[i] + count
      redis.call('HSET', meta, 't', totals[i])
      redis.call('PEXPIRE', log, period)
      redis.call('PEXPIRE', meta, period)
    end
  end
  if mode == 'd' then allowed = 1 end
end

local tight, best = 1, nil
for i = 1, n do
  local left = tonumber(ARGV[2 + 2 * i]) - totals[i]
  if best == nil or left < best then tight, best = i, left end
end
local limit, period = tonumber(ARGV[2 + 2 * tight]), tonumber(ARGV[3 + 2 * tight])
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[2 * tight - 1], 0, 0, 'WITHSCORES')
if #oldest > 0 then reset = tonumber(oldest[2]) + period - now end
if best < 0 then best = 0 end
return {allowed, limit, best, retry, reset}
"""

# Fixed-period quota counters (one string key per counter and period).
# KEYS: counter_1..counter_n   ARGV: mode ('a' acquire | 'd' add), then per counter: limit, need, add, ttl_ms (0 = never)
# Returns {allowed, blocked index (0 = none), used_1, ..., used_n}
QUOTA = r"""
local acquire = ARGV[1] == 'a'
local used = {}
for i = 1, #KEYS do
  used[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  local base = 2 + 4 * (i - 1)
  local limit, need = tonumber(ARGV[base]), tonumber(ARGV[base + 1])
  if acquire and limit >= 0 and used[i] + need > limit then
    local out = {0, i}
    for j = 1, #KEYS do out[j + 2] = used[j] or tonumber(redis.call('GET', KEYS[j]) or '0') end
    return out
  end
end
local out = {1, 0}
for i = 1, #KEYS do
  local base = 2 + 4 * (i - 1)
  local add, ttl = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  if add > 0 then
    used[i] = redis.call('INCRBY', KEYS[i], add)
    if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
  out[i + 2] = used[i]
end
return out
"""

# Concurrency slots as leases that expire if their gateway dies.
# KEYS: slots (sorted set: lease id scored by expiry ms)   ARGV: now_ms ('' = Redis TIME), max_count, lease id, ttl_ms
# Returns 1 when the lease was granted, 0 when max_count leases are live.
ENTER = r"""
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(newest[2]) - now))
return 1
"""

# Extend a held lease (only if it still exists).  KEYS: slots   ARGV: now_ms ('' = TIME), lease id, ttl_ms
RENEW = r"""
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local ttl = tonumber(ARGV[3])
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[2])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #newest > 0 then redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(newest[2]) - now)) end
return renewed
"""

# Token budgets (engine/ratelimit/tokens.py): a token bucket and a quota counter of one key.
# KEYS: bucket (hash {l = level in token-ms, t = ms of the level}), quota counter of the period (string)
# ARGV: now_ms ('' = Redis TIME), mode ('a' acquire | 'c' check | 'd' add), count (signed for 'd'),
#       tokens_per_minute (-1 = none), quota (-1 = none), quota ttl_ms
# Returns {allowed, blocked (0 none | 1 rate | 2 quota), bucket level (token-ms), quota used, retry_ms}
TOKENS = r"""
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local mode, count = ARGV[2], tonumber(ARGV[3])
local tpm, quota, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local scale = 60000
local level, used = 0, 0
if tpm >= 0 then
  local state = redis.call('HMGET', KEYS[1], 'l', 't')
  level = tpm * scale
  if state[1] then
    level = math.min(level, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * tpm)
  end
end
if quota >= 0 then used = tonumber(redis.call('GET', KEYS[2]) or '0') end
local need = 1
if mode == 'a' and count > 1 then need = count end
if mode ~= 'd' then
  if quota >= 0 and ((mode == 'a' and used + need > quota) or (mode == 'c' and used >= quota)) then
    return {0, 2, level, used, 0}
  end
  if tpm >= 0 and level < need * scale then
    local wait = 60000
    if need <= tpm then wait = math.ceil((need * scale - level) / tpm) end
    return {0, 1, level, used, wait}
  end
end
local take = count
if mode == 'c' then take = 0 end
if tpm >= 0 then
  level = math.min(tpm * scale, level - take * scale)
  local full = tpm * scale
  if level >= full then
    redis.call('DEL', KEYS[1])
  else
    redis.call('HSET', KEYS[1], 'l', level, 't', now)
    redis.call('PEXPIRE', KEYS[1], math.ceil((full - level) / math.max(tpm, 1)) + 1000)
  end
end
if quota >= 0 and take ~= 0 then
  used = redis.call('INCRBY', KEYS[2], take)
  if used < 0 then
    redis.call('SET', KEYS[2], 0)
    used = 0
  end
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
end
return {1, 0, level, used, 0}
"""
