--[[ Creates a run: its hash, its spec hash, its index entries and its first event, in one step.
  KEYS[1] run hash
  KEYS[2] event stream
  KEYS[3] the run's spec hash
  KEYS[4...] the indexes the run joins (sorted sets, all scored 0)
  ARGV[1] run uid
  ARGV[2] now (ms since epoch)
  ARGV[3] max events
  ARGV[4] n: how many of the arguments after it are the run hash's fields and values
  ARGV[5 ... 4+n] the run hash's fields and values; the rest, the spec hash's
  Run hash fields: src/store/run-hash.ts.
  Returns 'ok'.
]]
local run = open_run(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], nil)
local n = tonumber(ARGV[4])
-- ARGV[first..last] as field-value pairs, in slices: Lua's unpack returns 8,000 values at most.
local function hset(key, first, last)
  for i = first, last, 1000 do redis.call('HSET', key, unpack(ARGV, i, math.min(i + 999, last))) end
end
hset(run.key, 5, 4 + n)
hset(run.specs, 5 + n, #ARGV)
for i = 4, #KEYS do redis.call('ZADD', KEYS[i], 0, run.uid) end
emit(run, nil, 'PENDING', nil)
return 'ok'
