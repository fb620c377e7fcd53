--[[ Cancels a run: every job not yet ended becomes CANCELED, and so does the run.
  KEYS[1] run hash
  KEYS[2] event stream
  ARGV[1] run uid
  ARGV[2] reason
  ARGV[3] now (ms since epoch)
  ARGV[4] max events
  ARGV[5] prefix of the per-status run indexes
  Returns {code, ...}:
    {'ok', running...}  canceled; the jobs listed were RUNNING and their processes must be stopped
    {'ended', status}   the run had already ended
    {'missing'}         no such run
]]
ctx.run, ctx.events = KEYS[1], KEYS[2]
ctx.uid, ctx.now, ctx.max_events, ctx.index_prefix = ARGV[1], ARGV[3], ARGV[4], ARGV[5]
local run, reason = ctx.run, ARGV[2]
local s = redis.call('HMGET', run, 'status', 'jobs')
if not s[1] then return {'missing'} end
if s[1] == 'SUCCESSFUL' or s[1] == 'FAILED' or s[1] == 'CANCELED' then return {'ended', s[1]} end
local result = {'ok'}
for _, job in ipairs(split(s[2], ',')) do
  local job_status = redis.call('HGET', run, job .. '.status')
  if job_status == 'PENDING' or job_status == 'RUNNING' then
    if job_status == 'RUNNING' then table.insert(result, job) end
    redis.call('HSET', run, job .. '.status', 'CANCELED', job .. '.finished', ctx.now,
      job .. '.reason', reason)
    count_job_end('CANCELED')
    emit(job, 'CANCELED', reason, redis.call('HGET', run, job .. '.attempt'))
  end
end
redis.call('HDEL', run, 'held')
redis.call('HSET', run, 'active', 0, 'finished', ctx.now, 'reason', reason)
set_run_status(s[1], 'CANCELED')
emit(nil, 'CANCELED', reason)
return result
