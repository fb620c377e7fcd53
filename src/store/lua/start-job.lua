--[[ Marks one attempt of a job RUNNING, when it may start.
  KEYS[1] run hash
  KEYS[2] event stream
  ARGV[1] run uid
  ARGV[2] job name
  ARGV[3] attempt
  ARGV[4] now (ms since epoch)
  ARGV[5] max events
  Returns {code, spec}, code one of:
    'start'    the attempt is now RUNNING; spec is the job's JSON spec
    'restart'  the attempt was already RUNNING: a re-delivery after its worker died; run it again
    'ended'    the attempt already ended (a duplicate delivery)
    'canceled' the run was canceled
    'stale'    another attempt is current, or the job is not ready
    'missing'  no such run (expired or never existed)
]]
local run, events = KEYS[1], KEYS[2]
local uid, job, attempt, now, max_events = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local s = redis.call('HMGET', run, 'status', job .. '.status', job .. '.attempt', job .. '.wait',
  job .. '.spec')
local run_status, job_status, current, wait, spec = s[1], s[2], s[3], s[4], s[5]
if not run_status then return {'missing'} end
if run_status == 'CANCELED' then return {'canceled'} end
if current ~= attempt or wait ~= '0' then return {'stale'} end
if job_status == 'RUNNING' then return {'restart', spec} end
if job_status ~= 'PENDING' then return {'ended'} end
redis.call('HSET', run, job .. '.status', 'RUNNING', job .. '.started', now)
if run_status == 'PENDING' then
  redis.call('HSET', run, 'status', 'RUNNING', 'started', now)
  emit(events, max_events, uid, nil, 'RUNNING', nil, now)
end
emit(events, max_events, uid, job, 'RUNNING', nil, now)
return {'start', spec}
