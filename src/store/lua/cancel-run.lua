--[[ Cancels a run. The first cancel stops what runs and cancels what waits, except the cleanup
  jobs (every dependency `always`, no either-of group; marked `.cleanup`): those still run once their dependencies
  have ended, as a `finally` does, and the run ends CANCELED after them. Until then it is
  `canceling`. A second cancel, or a forced one, cancels every job not yet ended, cleanup jobs
  included, and the run at once.
  KEYS[1] run hash
  KEYS[2] event stream
  KEYS[3] the run's spec hash (a forEach job expanded writes its instances' specs)
  ARGV[1] run uid
  ARGV[2] reason
  ARGV[3] now (ms since epoch)
  ARGV[4] max events
  ARGV[5] prefix of the per-status run indexes
  ARGV[6] '1' to cancel the cleanup jobs too (force), '' not
  Run hash fields: src/store/run-hash.ts.
  Returns {code, ...}:
    {'ok', n, running..., ready...}  canceled; the n jobs listed first were RUNNING and their
                                     processes must be stopped; the ready entries after them
                                     ("job/attempt/executor") are cleanup jobs to enqueue
    {'ended', status}                the run had already ended
    {'missing'}                      no such run
]]
local run = open_run(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[3], ARGV[4], ARGV[5])
local reason = ARGV[2]
local s = redis.call('HMGET', run.key, 'status', 'jobs', 'canceling', 'done', 'total')
if not s[1] then return {'missing'} end
if s[1] == 'SUCCESSFUL' or s[1] == 'FAILED' or s[1] == 'CANCELED' then return {'ended', s[1]} end
local force = ARGV[6] == '1' or s[3]

if force then
  local result = {'ok', 0}
  for _, job in ipairs(split(s[2], ',')) do
    local job_status = redis.call('HGET', run.key, job .. '.status')
    if job_status == 'PENDING' or job_status == 'RUNNING' then
      if job_status == 'RUNNING' then table.insert(result, job) end
      redis.call('HSET', run.key, job .. '.status', 'CANCELED', job .. '.finished', run.now,
        job .. '.reason', reason)
      count_job_end(run, 'CANCELED')
      emit(run, job, 'CANCELED', reason, redis.call('HGET', run.key, job .. '.attempt'))
    end
  end
  result[2] = #result - 2
  redis.call('HDEL', run.key, 'held', 'canceling')
  redis.call('HSET', run.key, 'active', 0, 'finished', run.now, 'reason', s[3] or reason)
  set_run_status(run, s[1], 'CANCELED')
  emit(run, nil, 'CANCELED', s[3] or reason)
  return result
end

-- The first cancel: every open job but the cleanup ones ends CANCELED, as a transition does (its
-- queue slot given back, its dependents decided), so the cleanup jobs run once theirs ended.
local step = new_step()
local running, ended, kept = {}, {}, {}
for _, job in ipairs(split(s[2], ',')) do
  local f = redis.call('HMGET', run.key, job .. '.status', job .. '.cleanup', job .. '.queued',
    job .. '.attempt')
  if f[1] == 'PENDING' or f[1] == 'RUNNING' then
    -- A cleanup job (`.cleanup`, marked at creation: src/core/dag.ts) runs once its dependencies ended.
    if f[2] == '1' then
      table.insert(kept, job)
    else
      if f[1] == 'RUNNING' then table.insert(running, job) end
      if f[3] == '1' then step.active_delta = step.active_delta - 1 end
      end_job(run, step, job, 'CANCELED', reason, f[4])
      table.insert(ended, job)
    end
  end
end
-- Held jobs that were canceled leave the held list; cleanup jobs keep their place in it.
local held = redis.call('HGET', run.key, 'held')
if held then
  local still = {}
  for _, job in ipairs(split(held, ',')) do
    if redis.call('HGET', run.key, job .. '.status') == 'PENDING' then table.insert(still, job) end
  end
  if #still > 0 then redis.call('HSET', run.key, 'held', table.concat(still, ','))
  else redis.call('HDEL', run.key, 'held') end
end
propagate(run, step, ended)
release_held(run, step)
-- close_if_done ends the run CANCELED with this reason: now, or once the cleanup jobs ended.
redis.call('HSET', run.key, 'canceling', reason)
if #kept > 0 then
  redis.call('HSET', run.key, 'reason',
    reason .. '; running its cleanup jobs (' .. table.concat(kept, ', ') .. ') first')
end
close_if_done(run, step)
flush_counts(run, step, tonumber(s[4] or '0'))
local result = {'ok', #running}
for _, job in ipairs(running) do table.insert(result, job) end
for _, entry in ipairs(step.ready) do table.insert(result, entry) end
return result
