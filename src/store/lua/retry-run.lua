--[[ Retries an ended run in place: its FAILED, SKIPPED and CANCELED jobs, and every job downstream
  of them, get a new attempt and are decided again as their dependencies end; the other jobs are
  kept. Downstream jobs are re-run too because they were decided by the failure being retried (a
  fallback ran because of it, a cleanup after it): the run ends as if the new results had been the
  first. Each re-run job's previous attempt joins its history.
  KEYS[1] run hash
  KEYS[2] event stream
  KEYS[3] the run's spec hash (a forEach job expanded writes its instances' specs)
  ARGV[1] run uid
  ARGV[2] now (ms since epoch)
  ARGV[3] max events
  ARGV[4] prefix of the per-status run indexes
  Run hash fields: src/store/run-hash.ts.
  Returns {code, ...}:
    {'ok', ready...}     retried; enqueue the ready entries ("job/attempt/executor")
    {'running', status}  the run has not ended
    {'nothing'}          the run was SUCCESSFUL: nothing to retry
    {'missing'}          no such run
]]
local run = open_run(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
local s = redis.call('HMGET', run.key, 'status', 'jobs')
if not s[1] then return {'missing'} end
if s[1] == 'SUCCESSFUL' then return {'nothing'} end
if s[1] ~= 'FAILED' and s[1] ~= 'CANCELED' then return {'running', s[1]} end

local jobs = split(s[2], ',')
local rerun = {}
local downstream = {}
for _, job in ipairs(jobs) do
  local st = redis.call('HGET', run.key, job .. '.status')
  if st == 'FAILED' or st == 'SKIPPED' or st == 'CANCELED' then
    rerun[job] = true
    table.insert(downstream, job)
  end
end
while #downstream > 0 do
  local job = table.remove(downstream)
  for _, d in ipairs(split(redis.call('HGET', run.key, job .. '.next') or '', ',')) do
    if not rerun[d] then
      rerun[d] = true
      table.insert(downstream, d)
    end
  end
end
local kept = 0
for _, job in ipairs(jobs) do
  if not rerun[job] then kept = kept + 1 end
end

for _, job in ipairs(jobs) do
  if rerun[job] then
    local f = redis.call('HMGET', run.key, job .. '.attempt', job .. '.status', job .. '.started',
      job .. '.finished', job .. '.exit', job .. '.reason', job .. '.attempts', job .. '.deps',
      job .. '.items')
    local history = cjson.decode(f[7] or '[]')
    -- A field HMGET did not find is `false`, which cjson would write: `or nil` leaves it out.
    table.insert(history, {attempt = tonumber(f[1]), status = f[2], startedAt = tonumber(f[3]),
      finishedAt = tonumber(f[4]), exitCode = tonumber(f[5]), reason = f[6] or nil})
    local wait = 0
    for dep in string.gmatch(f[8] or '', '([^=;]+)=[^;]+') do
      if rerun[dep] then wait = wait + 1 end
    end
    redis.call('HSET', run.key, job .. '.attempts', cjson.encode(history), job .. '.attempt', tonumber(f[1]) + 1,
      job .. '.status', 'PENDING', job .. '.wait', wait, job .. '.base', tonumber(f[1]) + 1)
    redis.call('HDEL', run.key, job .. '.started', job .. '.finished', job .. '.exit', job .. '.reason',
      job .. '.outputs', job .. '.artifacts', job .. '.queued', job .. '.via', job .. '.cont')
    -- An expanded forEach job keeps its instances (its `.deps` now): RUNNING again, it waits for
    -- those re-run, and ends by all of them as after its expansion.
    if f[9] then redis.call('HSET', run.key, job .. '.status', 'RUNNING', job .. '.started', run.now) end
  end
end
redis.call('HDEL', run.key, 'failedJobs', 'tolerated', 'held', 'finished', 'reason')
-- `done` counts the jobs kept: cancel-run ends jobs without counting them in `done`, so it cannot
-- be decremented per re-run job.
redis.call('HSET', run.key, 'active', 0, 'done', kept)
set_run_status(run, s[1], 'RUNNING')
emit(run, nil, 'RUNNING', 'retried')

local step = new_step()
local stack = {}
for _, job in ipairs(jobs) do
  if rerun[job] and redis.call('HGET', run.key, job .. '.wait') == '0' then decide(run, step, job, stack) end
end
propagate(run, step, stack)
close_if_done(run, step)
flush_counts(run, step)
table.insert(step.ready, 1, 'ok')
return step.ready
