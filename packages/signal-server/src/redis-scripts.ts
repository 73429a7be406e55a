/**
 * Lua scripts of the Redis backend: each room operation is one atomic script, so two instances
 * racing for the same nameplate or the last seat of a room cannot both win.
 *
 * Keys (prefix P): `P rooms` zset room -> idle deadline (ms); `P room:R` hash {maxPeers, created};
 * `P members:R` hash peerId -> instance id; `P instances` zset instance -> last heartbeat (ms);
 * `P inst:I` set of "room|peerId" held by instance I (to clean up after a dead instance).
 */

/** KEYS rooms, room, members, inst. ARGV room, peer, instance, maxPeers, deadline, keyTtlMs, maxRooms, now. */
export const CREATE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[7]) then return -2 end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[2], 'maxPeers', ARGV[4], 'created', ARGV[8])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1] .. '|' .. ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;

/** KEYS rooms, room, members, inst. ARGV room, peer, instance, deadline, keyTtlMs. Returns -1/-2 or the previous members (flat). */
export const JOIN = `
local maxPeers = redis.call('HGET', KEYS[2], 'maxPeers')
if not maxPeers then return -1 end
if redis.call('HLEN', KEYS[3]) >= tonumber(maxPeers) then return -2 end
local members = redis.call('HGETALL', KEYS[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1] .. '|' .. ARGV[2])
return members
`;

/** KEYS rooms, room, members. ARGV room, peer, deadline, keyTtlMs. Refreshes the room; returns -1 or the members (flat). */
export const TOUCH = `
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 0 then return -1 end
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return redis.call('HGETALL', KEYS[3])
`;

/** KEYS rooms, room, members, inst. ARGV room, peer. Returns -1 (not a member) or the remaining members (flat). */
export const LEAVE = `
redis.call('SREM', KEYS[4], ARGV[1] .. '|' .. ARGV[2])
if redis.call('HDEL', KEYS[3], ARGV[2]) == 0 then return -1 end
if redis.call('HLEN', KEYS[3]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {}
end
return redis.call('HGETALL', KEYS[3])
`;

/** KEYS rooms, room, members. ARGV room, now, prefix. Claims an expired room; returns -1 or its members (flat). */
export const EXPIRE = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return -1 end
redis.call('ZREM', KEYS[1], ARGV[1])
local members = redis.call('HGETALL', KEYS[3])
redis.call('DEL', KEYS[2], KEYS[3])
for i = 1, #members, 2 do
  redis.call('SREM', ARGV[3] .. 'inst:' .. members[i + 1], ARGV[1] .. '|' .. members[i])
end
return members
`;

/** KEYS instances, inst. ARGV instance, cutoff. Claims a dead instance; returns -1 or its "room|peer" entries. */
export const REAP = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return -1 end
redis.call('ZREM', KEYS[1], ARGV[1])
local entries = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[2])
return entries
`;
