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
  ARGV[7] '1' when the caller decided the job's `when` condition true ('' otherwise)
  ARGV[8] the work instance taking it ('' for none): recorded as the queue entry's owner
  ARGV[9] prefix of the instance keys (`<prefix><id>` its registration, `<prefix><id>:holds` the
          queue entries it is processing)
  ARGV[10] the instances' registration TTL (ms)
  Run hash fields: src/store/run-hash.ts.
  Returns {code, job, attempt, spec, dep, outputs, dep, outputs, ...}, code one of:
    'decide'   the job has a `when` condition not yet decided: it stays PENDING; the caller
               decides it from the spec and outputs, then either calls again with ARGV[7] '1'
               or records its SKIPPED (or FAILED) end with finish-job.lua. A job never shows
               RUNNING for a condition that turns out false
    'start'    the attempt is now RUNNING; spec is the job's JSON spec, followed by the outputs
               (JSON) of each of its ancestors that produced some
    'restart'  the attempt was already RUNNING: a re-delivery after its worker died; run it again.
               Or the attempt ended, and a job it carried on (includes.lua: hand_out) is still
               RUNNING: its worker stopped; the job and attempt returned are that one's
    'held'     a re-delivery while the entry's owner (another instance) is alive and still
               processing it (a lock lost to a pause or an outage): not run; the owner follows
    'ended'    the attempt already ended (a duplicate delivery)
    'canceled' the run was canceled
    'stale'    another attempt is current, or the job is not ready
    'missing'  no such run (expired or never existed)
]]
local run = open_run(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[4], ARGV[5], ARGV[6])
local job, attempt = ARGV[2], ARGV[3]
local s = redis.call('HMGET', run.key, 'status', job .. '.status', job .. '.attempt', job .. '.wait',
  job .. '.deps', job .. '.reason', 'withOutputs', job .. '.cont', job .. '.when')
local run_status, job_status, current, wait, deps = s[1], s[2], s[3], s[4], s[5]
local has_reason, run_has_outputs, carried, conditioned = s[6], s[7], s[8], s[9]
if not run_status then return {'missing'} end
if run_status == 'CANCELED' then return {'canceled'} end
if current ~= attempt or wait ~= '0' then return {'stale'} end

-- The queue entry (this attempt) is owned by whoever processes it: a re-delivery is refused while
-- its owner is registered and lists the entry among those it holds; otherwise it is taken over.
local me, instances, ttl = ARGV[8], ARGV[9], ARGV[10]
local entry = ARGV[1] .. '/' .. job .. '/' .. attempt
-- `...`: more fields of the run hash to set in the same HSET (the start's status and time).
local function take(...)
  if me == '' then
    if select('#', ...) > 0 then redis.call('HSET', run.key, ...) end
    return
  end
  redis.call('HSET', run.key, job .. '.owner', me, ...)
  redis.call('SADD', instances .. me .. ':holds', entry)
  redis.call('PEXPIRE', instances .. me .. ':holds', ttl)
end
local function held()
  local owner = redis.call('HGET', run.key, job .. '.owner')
  return owner and owner ~= me and redis.call('EXISTS', instances .. owner) == 1
    and redis.call('SISMEMBER', instances .. owner .. ':holds', entry) == 1 and owner
end

-- The reply for an attempt that runs (its spec is read only then: specs are the bulk of a run's
-- bytes).
local function runs(code, name, number, dependencies)
  return append_runnable(run, {code}, name, number, dependencies, run_has_outputs)
end

if job_status ~= 'PENDING' and job_status ~= 'RUNNING' then
  if carried then
    local name, number = string.match(carried, '^(.*)/(%d+)$')
    local c = redis.call('HMGET', run.key, name .. '.status', name .. '.attempt', name .. '.via',
      name .. '.deps')
    if c[1] == 'RUNNING' and c[2] == number and c[3] == job .. '/' .. attempt then
      local owner = held()
      if owner then return {'held', owner} end
      take()
      return runs('restart', name, number, c[4])
    end
  end
  return {'ended'}
end
if job_status == 'RUNNING' then
  local owner = held()
  if owner then return {'held', owner} end
  take()
  return runs('restart', job, attempt, deps)
end
if conditioned and ARGV[7] ~= '1' then return runs('decide', job, attempt, deps) end
take(job .. '.status', 'RUNNING', job .. '.started', run.now)
-- Why it waited (a retry, a concurrency slot) is over.
if has_reason then redis.call('HDEL', run.key, job .. '.reason') end
if run_status == 'PENDING' then
  set_run_status(run, run_status, 'RUNNING')
  redis.call('HSET', run.key, 'started', run.now)
  emit(run, nil, 'RUNNING', nil)
end
emit(run, job, 'RUNNING', nil, attempt)
return runs('start', job, attempt, deps)
