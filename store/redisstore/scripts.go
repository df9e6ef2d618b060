package redisstore

import "github.com/redis/go-redis/v9"

// Every write is a Lua script, so that a session and its user's index change
// together or not at all. The scripts derive some key names from prefixes
// passed in ARGV instead of declaring them in KEYS (a user's index is only
// known once the stored value is read); that is sound in Cluster because
// every key of a Store carries the same hash tag, hence lives in one slot.
//
// A stored value is the header of value.go followed by the session data:
//
//	byte 1       format version (1)
//	bytes 2-9    expiry, Unix nanoseconds, big-endian
//	bytes 10-11  length of the user ID, big-endian
//	bytes 12-    user ID, then data
//
// Instants travel as 8-byte big-endian strings and are compared byte by byte:
// Lua numbers are doubles, which cannot hold nanoseconds exactly, and Lua
// string comparison follows the server's locale.
const luaHelpers = `
-- slack is added to every TTL, in milliseconds: Redis measures a TTL from
-- when it runs the command, a little after the store read its clock, and a
-- touch by a millisecond may lose to that jitter under PEXPIRE GT. The
-- exact expiry in the value decides; the TTL only has to come no sooner.
local slack = 1000

local function later(a, b)
  for i = 1, 8 do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return false
end

-- divms splits 8-byte nanoseconds into whole milliseconds and the rest, by
-- long division in base 256 so that every intermediate value is exact.
local function divms(t)
  local q, r = 0, 0
  for i = 1, 8 do
    local x = r * 256 + string.byte(t, i)
    local d = math.floor(x / 1000000)
    q = q * 256 + d
    r = x - d * 1000000
  end
  return q, r
end

local function ceilms(t)
  local q, r = divms(t)
  if r > 0 then q = q + 1 end
  return q
end

-- owner returns the user ID of a stored value, nil if it is not one.
local function owner(v)
  if not v or #v < 11 or string.byte(v, 1) ~= 1 then return nil end
  local n = string.byte(v, 10) * 256 + string.byte(v, 11)
  if #v < 11 + n then return nil end
  return string.sub(v, 12, 11 + n)
end

local function expiry(v) return string.sub(v, 2, 9) end

-- trim removes from index idx of user the members whose score says they
-- expired, and deletes their sessions. A member whose session turns out to
-- be live gets its score repaired instead: trimming never revokes.
local function trim(idx, user, now, sp)
  local nowms = divms(now)
  local dead = redis.call('ZRANGEBYSCORE', idx, '-inf', nowms)
  for _, m in ipairs(dead) do
    local v = redis.call('GET', sp .. m)
    if v and owner(v) == user and later(expiry(v), now) then
      redis.call('ZADD', idx, ceilms(expiry(v)), m)
    else
      if v and owner(v) == user then redis.call('DEL', sp .. m) end
      redis.call('ZREM', idx, m)
    end
  end
end
`

// putScript writes a value, keeping a later live expiry when asked (Put) or
// setting it exactly (scs Commit), and keeps the user indexes in step.
//
// KEYS[1] session key; KEYS[2] index key of the value's user, if it has one.
// ARGV[1] value; ARGV[2] now; ARGV[3] "1" to keep a later live expiry;
// ARGV[4] store key (the index member); ARGV[5] index key prefix; ARGV[6]
// session key prefix.
var putScript = redis.NewScript(luaHelpers + `
local v, now, member = ARGV[1], ARGV[2], ARGV[4]
local user = owner(v)
local exp = expiry(v)
local keep = false
local old = redis.call('GET', KEYS[1])
local ou = owner(old)
if ou then
  if ou ~= '' and ou ~= user then redis.call('ZREM', ARGV[5] .. ou, member) end
  local oe = expiry(old)
  if ARGV[3] == '1' and later(oe, now) and later(oe, exp) then
    keep, exp = true, oe
    v = string.sub(v, 1, 1) .. oe .. string.sub(v, 10)
  end
end
if not later(exp, now) then
  redis.call('DEL', KEYS[1])
  if user ~= '' then redis.call('ZREM', KEYS[2], member) end
  return 0
end
local score = ceilms(exp)
local ttl = score - divms(now) + slack
if keep then
  redis.call('SET', KEYS[1], v, 'KEEPTTL')
else
  redis.call('SET', KEYS[1], v, 'PX', ttl)
end
if user ~= '' then
  redis.call('ZADD', KEYS[2], score, member)
  trim(KEYS[2], user, now, ARGV[6])
  if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
end
return 1
`)

// touchScript moves the expiry of a live value forward, in the value, in
// Redis's TTL (PEXPIRE GT) and in the user's index (ZADD XX GT).
//
// KEYS[1] session key. ARGV[1] new expiry; ARGV[2] now; ARGV[3] store key;
// ARGV[4] index key prefix.
var touchScript = redis.NewScript(luaHelpers + `
local v = redis.call('GET', KEYS[1])
local user = owner(v)
if not user then return 0 end
local old = expiry(v)
if not later(old, ARGV[2]) or not later(ARGV[1], old) then return 0 end
redis.call('SETRANGE', KEYS[1], 1, ARGV[1])
local score = ceilms(ARGV[1])
local ttl = score - divms(ARGV[2]) + slack
redis.call('PEXPIRE', KEYS[1], ttl, 'GT')
if user ~= '' then
  local idx = ARGV[4] .. user
  redis.call('ZADD', idx, 'XX', 'GT', score, ARGV[3])
  redis.call('PEXPIRE', idx, ttl, 'GT')
end
return 1
`)

// updateScript replaces the data of a live value, keeping its user, and
// moves its expiry to the later of the stored and the given one. It never
// creates a value: a missing, foreign or expired one is left alone.
//
// KEYS[1] session key. ARGV[1] data; ARGV[2] expiry; ARGV[3] now; ARGV[4]
// store key; ARGV[5] index key prefix.
var updateScript = redis.NewScript(luaHelpers + `
local v = redis.call('GET', KEYS[1])
local user = owner(v)
if not user then return 0 end
local old, now = expiry(v), ARGV[3]
if not later(old, now) then return 0 end
local exp = old
if later(ARGV[2], old) then exp = ARGV[2] end
redis.call('SET', KEYS[1], string.sub(v, 1, 1) .. exp .. string.sub(v, 10, 11 + #user) .. ARGV[1], 'KEEPTTL')
if exp ~= old then
  local score = ceilms(exp)
  local ttl = score - divms(now) + slack
  redis.call('PEXPIRE', KEYS[1], ttl, 'GT')
  if user ~= '' then
    local idx = ARGV[5] .. user
    redis.call('ZADD', idx, 'XX', 'GT', score, ARGV[4])
    redis.call('PEXPIRE', idx, ttl, 'GT')
  end
end
return 1
`)

// renameScript moves a live value, with its TTL, to a new key and its user's
// index entry to the new store key. A missing, foreign or expired value is
// left alone; an existing new key is an error, since the Manager only renames
// to a fresh random key and overwriting would orphan that key's index entry.
//
// KEYS[1] old session key; KEYS[2] new session key. ARGV[1] now; ARGV[2]
// old store key; ARGV[3] new store key; ARGV[4] index key prefix.
var renameScript = redis.NewScript(luaHelpers + `
local v = redis.call('GET', KEYS[1])
local user = owner(v)
if not user or not later(expiry(v), ARGV[1]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('the new key already exists')
end
redis.call('RENAME', KEYS[1], KEYS[2])
if user ~= '' then
  local idx = ARGV[4] .. user
  local score = ceilms(expiry(v))
  local ttl = score - divms(ARGV[1]) + slack
  redis.call('ZREM', idx, ARGV[2])
  redis.call('ZADD', idx, score, ARGV[3])
  if redis.call('PTTL', idx) < ttl then redis.call('PEXPIRE', idx, ttl) end
end
return 1
`)

// deleteScript deletes a session and its index entry.
//
// KEYS[1] session key. ARGV[1] store key; ARGV[2] index key prefix.
var deleteScript = redis.NewScript(luaHelpers + `
local user = owner(redis.call('GET', KEYS[1]))
if user and user ~= '' then redis.call('ZREM', ARGV[2] .. user, ARGV[1]) end
return redis.call('DEL', KEYS[1])
`)

// listScript returns the live sessions of a user as store key, value pairs,
// and drops what is dead from the index on the way.
//
// KEYS[1] index key. ARGV[1] now; ARGV[2] session key prefix; ARGV[3] user.
var listScript = redis.NewScript(luaHelpers + `
local now, sp, user = ARGV[1], ARGV[2], ARGV[3]
trim(KEYS[1], user, now, sp)
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('GET', sp .. m)
  if owner(v) == user and later(expiry(v), now) then
    out[#out + 1] = m
    out[#out + 1] = v
  else
    if owner(v) == user then redis.call('DEL', sp .. m) end
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`)

// deleteUserScript deletes every session of a user but one and reports how
// many of those it deleted were live.
//
// KEYS[1] index key. ARGV[1] now; ARGV[2] session key prefix; ARGV[3] user;
// ARGV[4] store key to keep, or "".
var deleteUserScript = redis.NewScript(luaHelpers + `
local now, sp, user = ARGV[1], ARGV[2], ARGV[3]
local n = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if m ~= ARGV[4] then
    local v = redis.call('GET', sp .. m)
    if owner(v) == user then
      if later(expiry(v), now) then n = n + 1 end
      redis.call('DEL', sp .. m)
    end
    redis.call('ZREM', KEYS[1], m)
  end
end
return n
`)
