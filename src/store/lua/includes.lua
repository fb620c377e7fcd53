-- Shared pieces, prepended to every script by src/store/scripts.ts. A script sets `ctx`'s fields
-- (run, events, max_events, uid, now, index_prefix; specs, the spec hash, where jobs start) before
-- calling the functions below; it may also set what it has already read (`limit`, `next`), which
-- then is not read again.
-- The run's `active` and `done` counters change several times in one transition: the changes are
-- summed (`active_delta`; `ended`, the jobs ended) and written once, by flush_counts, which every
-- script that calls the functions below calls last.
local ctx = {result = {}, next = {}, ended = 0, active_delta = 0}

local function split(list, sep)
  local out = {}
  if list then
    for item in string.gmatch(list, '[^' .. sep .. ']+') do table.insert(out, item) end
  end
  return out
end

-- Appends one transition to the event stream (capped, approximately, at max_events entries).
local function emit(job, status, reason, attempt)
  local fields = {'uid', ctx.uid, 'status', status, 'time', ctx.now}
  if job then
    table.insert(fields, 'job')
    table.insert(fields, job)
  end
  if attempt then
    table.insert(fields, 'attempt')
    table.insert(fields, attempt)
  end
  if reason and reason ~= '' then
    table.insert(fields, 'reason')
    table.insert(fields, reason)
  end
  redis.call('XADD', ctx.events, 'MAXLEN', '~', ctx.max_events, '*', unpack(fields))
end

-- Sets the run's status and moves it between the per-status indexes (`<prefix>runs:status:<S>`).
local function set_run_status(old_status, new_status)
  redis.call('HSET', ctx.run, 'status', new_status)
  if old_status then redis.call('ZREM', ctx.index_prefix .. old_status, ctx.uid) end
  redis.call('ZADD', ctx.index_prefix .. new_status, 0, ctx.uid)
end

-- Counts a job's end in `<prefix>jobs:ended` (keys.ts: jobsEnded), for the jobs-by-status metric.
local function count_job_end(status)
  local prefix = string.sub(ctx.index_prefix, 1, -(#'runs:status:' + 1))
  redis.call('HINCRBY', prefix .. 'jobs:ended', status, 1)
end

-- "job/attempt/executor": what the caller needs to enqueue a ready attempt.
local function entry(job, attempt, executor)
  return job .. '/' .. attempt .. '/' .. (executor or '')
end

local function ready_entry(job)
  local f = redis.call('HMGET', ctx.run, job .. '.attempt', job .. '.exec')
  return entry(job, f[1], f[2])
end

-- Records a job's final status. `attempt` is the job's current attempt, read when not given;
-- `had_reason` false says the job has no reason to clear (nil: it may have one); `extra` holds
-- more fields to set in the same write.
local function end_job(name, status, reason, attempt, had_reason, extra)
  local run = ctx.run
  local fields = extra or {}
  table.insert(fields, name .. '.status')
  table.insert(fields, status)
  table.insert(fields, name .. '.finished')
  table.insert(fields, ctx.now)
  if reason ~= '' then
    table.insert(fields, name .. '.reason')
    table.insert(fields, reason)
  elseif had_reason ~= false then
    redis.call('HDEL', run, name .. '.reason')
  end
  redis.call('HSET', run, unpack(fields))
  if status == 'FAILED' then
    local failed = redis.call('HGET', run, 'failedJobs')
    redis.call('HSET', run, 'failedJobs', failed and (failed .. ',' .. name) or name)
  end
  ctx.ended = ctx.ended + 1
  count_job_end(status)
  emit(name, status, reason, attempt or redis.call('HGET', run, name .. '.attempt'))
end

-- The run's concurrency limit (0: none), read once per script.
local function concurrency_limit()
  if not ctx.limit then ctx.limit = tonumber(redis.call('HGET', ctx.run, 'concurrency') or '0') end
  return ctx.limit
end

-- How many of the run's jobs are queued or running now (`active` as stored, read once per script
-- unless the script set `ctx.active`, plus this script's changes).
local function active_now()
  if not ctx.active then ctx.active = tonumber(redis.call('HGET', ctx.run, 'active') or '0') end
  return ctx.active + ctx.active_delta
end

-- Writes the counters' changes (see ctx). `done`, when given, is `done` as read at the start:
-- both are then set in one write (`active` as well, from active_now).
local function flush_counts(done)
  if done then
    redis.call('HSET', ctx.run, 'active', active_now(), 'done', done + ctx.ended)
    return
  end
  if ctx.active_delta ~= 0 then redis.call('HINCRBY', ctx.run, 'active', ctx.active_delta) end
  if ctx.ended > 0 then redis.call('HINCRBY', ctx.run, 'done', ctx.ended) end
end

-- Appends what a worker needs to run a job: its name, attempt and spec (from the run's spec hash,
-- `ctx.specs`), then each dependency (`deps`: the job's `.deps`) that recorded outputs, with
-- them (dep, outputs, ...): read only when the run has outputs at all (`with_outputs`).
local function append_runnable(result, name, attempt, deps, with_outputs)
  table.insert(result, name)
  table.insert(result, attempt)
  table.insert(result, redis.call('HGET', ctx.specs, name .. '.spec'))
  if not with_outputs then return result end
  local names = {}
  for dep in string.gmatch(deps or '', '([^=;]+)=[^;]+') do table.insert(names, dep .. '.outputs') end
  if #names == 0 then return result end
  local outputs = redis.call('HMGET', ctx.run, unpack(names))
  for i, field in ipairs(names) do
    if outputs[i] then
      table.insert(result, string.sub(field, 1, -9))
      table.insert(result, outputs[i])
    end
  end
  return result
end

-- Hands a slot to a ready job: it goes to its executor's queue, or, when the caller is a worker
-- offering to carry one job of its executor on (`ctx.carry`: the BullMQ job it holds, and its
-- executor) and has not yet, it starts at once in that worker's slot. A carried job records
-- its carrier (`.via`), and the carrier its latest carried job (`.cont`): start-job.lua resumes
-- it when the carrier is delivered again after its worker stopped. `f`: the job's `.attempt`,
-- `.exec`, `.reason` and `.deps`, when already read.
local function hand_out(name, f)
  local run = ctx.run
  ctx.active_delta = ctx.active_delta + 1
  f = f or redis.call('HMGET', run, name .. '.attempt', name .. '.exec', name .. '.reason',
    name .. '.deps')
  local attempt = f[1]
  local carry = ctx.carry
  if carry and not ctx.carried and (f[2] or '') == carry.executor then
    redis.call('HSET', run, name .. '.status', 'RUNNING', name .. '.started', ctx.now,
      name .. '.queued', '1', name .. '.via', carry.id, carry.job .. '.cont', name .. '/' .. attempt)
    if f[3] then redis.call('HDEL', run, name .. '.reason') end
    ctx.carried = {name, attempt, f[4]} -- its RUNNING event follows the transition's other events
    return
  end
  redis.call('HSET', run, name .. '.queued', '1')
  table.insert(ctx.result, entry(name, attempt, f[2]))
end

-- Hands a slot to a ready job, or holds it when the run is at its concurrency limit or others
-- are held already (they go first: release_held hands out the slots in the order jobs became
-- ready).
local function admit(name, f)
  local run = ctx.run
  local limit = concurrency_limit()
  if limit > 0 then
    local held = redis.call('HGET', run, 'held')
    if held or active_now() >= limit then
      redis.call('HSET', run, 'held', held and (held .. ',' .. name) or name,
        name .. '.reason', 'waiting for one of the run\'s ' .. limit .. ' concurrency slots')
      return
    end
  end
  hand_out(name, f)
end

-- Hands the slots freed by ended jobs to the jobs held longest.
local function release_held()
  local run = ctx.run
  local limit = concurrency_limit()
  if limit == 0 then return end -- nothing is ever held
  local held = split(redis.call('HGET', run, 'held'), ',')
  if #held == 0 then return end
  while #held > 0 and active_now() < limit do
    hand_out(table.remove(held, 1))
  end
  if #held > 0 then redis.call('HSET', run, 'held', table.concat(held, ','))
  else redis.call('HDEL', run, 'held') end
end

-- The rule of src/core/dag.ts `decide` for a job whose dependencies have all ended: nil when it
-- may run, else the reason it is skipped (`deps`: its `.deps`, "dep=ACCEPTED|ACCEPTED;...").
local function skip_reason(deps_field)
  local deps, accepted, fields = {}, {}, {}
  for dep, accepts in string.gmatch(deps_field or '', '([^=;]+)=([^;]+)') do
    table.insert(deps, dep)
    table.insert(accepted, accepts)
    table.insert(fields, dep .. '.status')
  end
  if #deps == 0 then return nil end
  -- Every dependency's status in one read (a join has many).
  local statuses = redis.call('HMGET', ctx.run, unpack(fields))
  for i, dep in ipairs(deps) do
    local dep_status, accepts = statuses[i], accepted[i]
    if string.find('|' .. accepts .. '|', '|' .. dep_status .. '|', 1, true) == nil then
      return 'dependency "' .. dep .. '" ended ' .. dep_status ..
        '; this job runs only when it is ' .. string.gsub(accepts, '|', ' or ')
    end
  end
  return nil
end

-- Decides a job whose dependencies have all ended: queue it, or skip it and go on from it.
local function decide(name, stack)
  -- What hand_out reads, read once with the dependencies.
  local f = redis.call('HMGET', ctx.run, name .. '.attempt', name .. '.exec', name .. '.reason',
    name .. '.deps')
  local reason = skip_reason(f[4])
  if reason then
    end_job(name, 'SKIPPED', reason, f[1])
    table.insert(stack, name)
  else
    admit(name, f)
  end
end

-- From jobs that just ended, decides each dependent whose last dependency that was (skips
-- propagate through the stack).
local function propagate(stack)
  while #stack > 0 do
    local ended = table.remove(stack)
    local dependents = ctx.next[ended]
    if dependents == nil then dependents = redis.call('HGET', ctx.run, ended .. '.next') end
    for _, d in ipairs(split(dependents, ',')) do
      if redis.call('HINCRBY', ctx.run, d .. '.wait', -1) == 0 then decide(d, stack) end
    end
  end
end

-- Whether a failed job's failure was handled: a fallback (a dependent that runs only when it
-- FAILED) ran successfully. An `always` dependent (cleanup) runs whatever happened: not a fallback.
local function handled(name)
  for _, d in ipairs(split(redis.call('HGET', ctx.run, name .. '.next'), ',')) do
    local f = redis.call('HMGET', ctx.run, d .. '.status', d .. '.deps')
    for dep, accepts in string.gmatch(f[2] or '', '([^=;]+)=([^;]+)') do
      if f[1] == 'SUCCESSFUL' and dep == name and accepts == 'FAILED' then return true end
    end
  end
  return false
end

-- Closes the run once every job has ended: FAILED if any job failed, else SUCCESSFUL.
local function close_if_done()
  local run = ctx.run
  local f = redis.call('HMGET', run, 'done', 'total', 'failedJobs', 'status')
  if tonumber(f[1]) + ctx.ended ~= tonumber(f[2]) then return end
  local status, reason = 'SUCCESSFUL', ''
  if f[3] then
    status = 'FAILED'
    local names = split(f[3], ',')
    reason = (#names == 1 and 'job "' or 'jobs "') .. table.concat(names, '", "') .. '" failed'
    local all_handled = true
    for _, name in ipairs(names) do all_handled = all_handled and handled(name) end
    -- The original chainr's rule: a run with a failed job is FAILED, even when a fallback ran.
    if all_handled then reason = reason .. ' (handled by a fallback; a run with a failed job is FAILED)' end
  end
  set_run_status(f[4], status)
  redis.call('HSET', run, 'finished', ctx.now)
  if reason ~= '' then redis.call('HSET', run, 'reason', reason) end
  emit(nil, status, reason)
end
