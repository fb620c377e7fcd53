--[[ Records an attempt's result and advances the run's DAG: dependents whose last dependency
  just ended are decided here (run or skip, skips propagating), and the run is closed when every
  job has ended. The rule is src/core/dag.ts's `decide`, applied from the edges `compile` stored
  at creation: `<job>.deps` = "dep=ACCEPTED|ACCEPTED;...", `<job>.next` = "dependent,...",
  `<job>.wait` = dependencies not yet ended. Work is proportional to the finished job's
  dependents, never to the size of the run.
  KEYS[1] run hash
  KEYS[2] event stream
  ARGV[1] run uid
  ARGV[2] job name
  ARGV[3] attempt
  ARGV[4] status: SUCCESSFUL | FAILED
  ARGV[5] exit code, or '' when the process did not exit on its own
  ARGV[6] reason ('' for none)
  ARGV[7] now (ms since epoch)
  ARGV[8] max events
  Returns {code, ready...}, code one of:
    'ok'        recorded; the jobs listed after it ("<job>/<attempt>") are ready: enqueue them
    'duplicate' this attempt had already ended; the jobs listed are its dependents that are
                ready but not started (enqueue them again: enqueueing is idempotent)
    'ignored'   the run was canceled, or the attempt is not the current one
    'missing'   no such run
]]
local run, events = KEYS[1], KEYS[2]
local uid, job, attempt, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local exit_code, reason, now, max_events = ARGV[5], ARGV[6], ARGV[7], ARGV[8]

local s = redis.call('HMGET', run, 'status', job .. '.status', job .. '.attempt')
if not s[1] then return {'missing'} end
if s[1] == 'CANCELED' or s[3] ~= attempt then return {'ignored'} end

local function accepted(accepts, dep_status)
  return string.find('|' .. accepts .. '|', '|' .. dep_status .. '|', 1, true) ~= nil
end

if s[2] ~= 'RUNNING' then
  local ready = {'duplicate'}
  for _, d in ipairs(split(redis.call('HGET', run, job .. '.next'), ',')) do
    local ds = redis.call('HMGET', run, d .. '.status', d .. '.wait', d .. '.attempt')
    if ds[1] == 'PENDING' and ds[2] == '0' then table.insert(ready, d .. '/' .. ds[3]) end
  end
  return ready
end

local done = 0
local failed_jobs = nil

local function finish(name, final_status, final_reason)
  redis.call('HSET', run, name .. '.status', final_status, name .. '.finished', now)
  if final_reason ~= '' then redis.call('HSET', run, name .. '.reason', final_reason) end
  if final_status == 'FAILED' then
    failed_jobs = redis.call('HGET', run, 'failedJobs')
    failed_jobs = failed_jobs and (failed_jobs .. ',' .. name) or name
    redis.call('HSET', run, 'failedJobs', failed_jobs)
  end
  done = redis.call('HINCRBY', run, 'done', 1)
  emit(events, max_events, uid, name, final_status, final_reason, now)
end

if exit_code ~= '' then redis.call('HSET', run, job .. '.exit', exit_code) end
finish(job, status, reason)

local result = {'ok'}
local stack = {job}
while #stack > 0 do
  local ended = table.remove(stack)
  for _, d in ipairs(split(redis.call('HGET', run, ended .. '.next'), ',')) do
    if redis.call('HINCRBY', run, d .. '.wait', -1) == 0 then
      local skip = nil
      for dep, accepts in string.gmatch(redis.call('HGET', run, d .. '.deps'), '([^=;]+)=([^;]+)') do
        local dep_status = redis.call('HGET', run, dep .. '.status')
        if not accepted(accepts, dep_status) then
          skip = 'dependency "' .. dep .. '" ended ' .. dep_status ..
            '; this job runs only when it is ' .. string.gsub(accepts, '|', ' or ')
          break
        end
      end
      if skip then
        finish(d, 'SKIPPED', skip)
        table.insert(stack, d)
      else
        table.insert(result, d .. '/' .. redis.call('HGET', run, d .. '.attempt'))
      end
    end
  end
end

if done == tonumber(redis.call('HGET', run, 'total')) then
  local run_status, run_reason = 'SUCCESSFUL', ''
  failed_jobs = failed_jobs or redis.call('HGET', run, 'failedJobs')
  if failed_jobs then
    run_status = 'FAILED'
    local names = split(failed_jobs, ',')
    run_reason = (#names == 1 and 'job "' or 'jobs "') .. table.concat(names, '", "') .. '" failed'
  end
  redis.call('HSET', run, 'status', run_status, 'finished', now)
  if run_reason ~= '' then redis.call('HSET', run, 'reason', run_reason) end
  emit(events, max_events, uid, nil, run_status, run_reason, now)
end
return result
