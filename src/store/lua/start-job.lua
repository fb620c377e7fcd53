--[[ Marks one attempt of a job RUNNING, when it may start.
  KEYS[1] run hash
  KEYS[2] event stream
  KEYS[3] the run's spec hash (the job's spec)
  ARGV[1] run uid
  ARGV[2] job name
  ARGV[3] attempt
  ARGV[4] now (ms since epoch)
  ARGV[5] max events
  ARGV[6] prefix of the per-status run indexes
  Returns {code, job, attempt, spec, dep, outputs, dep, outputs, ...}, code one of:
    'start'    the attempt is now RUNNING; spec is the job's JSON spec, followed by the outputs
               (JSON) of each of its dependencies that produced some
    'restart'  the attempt was already RUNNING: a re-delivery after its worker died; run it again.
               Or the attempt ended, and a job it carried on (includes.lua: hand_out) is still
               RUNNING: its worker stopped; the job and attempt returned are that one's
    'ended'    the attempt already ended (a duplicate delivery)
    'canceled' the run was canceled
    'stale'    another attempt is current, or the job is not ready
    'missing'  no such run (expired or never existed)
]]
ctx.run, ctx.events, ctx.specs = KEYS[1], KEYS[2], KEYS[3]
ctx.uid, ctx.now, ctx.max_events, ctx.index_prefix = ARGV[1], ARGV[4], ARGV[5], ARGV[6]
local run, job, attempt = ctx.run, ARGV[2], ARGV[3]
local s = redis.call('HMGET', run, 'status', job .. '.status', job .. '.attempt', job .. '.wait',
  job .. '.deps', job .. '.reason', 'withOutputs', job .. '.cont')
local run_status, job_status, current, wait, deps = s[1], s[2], s[3], s[4], s[5]
local has_reason, run_has_outputs, carried = s[6], s[7], s[8]
if not run_status then return {'missing'} end
if run_status == 'CANCELED' then return {'canceled'} end
if current ~= attempt or wait ~= '0' then return {'stale'} end

-- The reply for an attempt that runs (its spec is read only then: specs are the bulk of a run's
-- bytes).
local function runs(code, name, number, dependencies)
  return append_runnable({code}, name, number, dependencies, run_has_outputs)
end

if job_status ~= 'PENDING' and job_status ~= 'RUNNING' then
  if carried then
    local name, number = string.match(carried, '^(.*)/(%d+)$')
    local c = redis.call('HMGET', run, name .. '.status', name .. '.attempt', name .. '.via',
      name .. '.deps')
    if c[1] == 'RUNNING' and c[2] == number and c[3] == job .. '/' .. attempt then
      return runs('restart', name, number, c[4])
    end
  end
  return {'ended'}
end
if job_status == 'RUNNING' then return runs('restart', job, attempt, deps) end
redis.call('HSET', run, job .. '.status', 'RUNNING', job .. '.started', ctx.now)
-- Why it waited (a retry, a concurrency slot) is over.
if has_reason then redis.call('HDEL', run, job .. '.reason') end
if run_status == 'PENDING' then
  set_run_status(run_status, 'RUNNING')
  redis.call('HSET', run, 'started', ctx.now)
  emit(nil, 'RUNNING', nil)
end
emit(job, 'RUNNING', nil, attempt)
return runs('start', job, attempt, deps)
