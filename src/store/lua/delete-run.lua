--[[ Deletes a run (an ended one: retention, the archiver) with its spec, logs and index entries,
  but only while it is still the run that was read: the same status and end time. A run retried
  since (or ended again) is left alone, so that nothing removes a state that nothing has kept.
  KEYS[1]  run hash
  KEYS[2]  and on up to the count in ARGV[3]: the other keys to delete (spec hash, job logs)
  the rest: the indexes to remove the run's uid from
  ARGV[1] the status read
  ARGV[2] the end time read (ms since epoch, as the hash holds it; empty: none)
  ARGV[3] how many keys are deleted (the run hash included)
  ARGV[4] run uid
  Run hash fields: src/store/run-hash.ts.
  Returns 1 when deleted, 0 when the run changed or was gone.
]]
local s = redis.call('HMGET', KEYS[1], 'status', 'finished')
if s[1] ~= ARGV[1] or (s[2] or '') ~= ARGV[2] then return 0 end
local deleted = tonumber(ARGV[3])
redis.call('DEL', unpack(KEYS, 1, deleted))
for i = deleted + 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[4]) end
return 1
