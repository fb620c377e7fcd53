-- Shared pieces, prepended to every script by src/store/scripts.ts. Each function works on what
-- it is handed:
-- - `run`: the run a script works on (open_run: its hash, event stream, spec hash, uid, the
--   transition's time, the stream's cap, the status indexes' prefix). Never changed.
-- - `step`: the transition's tally (new_step), for the functions that advance the DAG: the ready
--   entries to return, the job carried on, and the changes to the run's `active` and `done`
--   counters, which change several times in one transition and are written once, by
--   flush_counts, which every script that advances the DAG calls last.
-- The run hash's fields: src/store/run-hash.ts.

-- The run a script works on (see above); `specs` and `index_prefix` may be nil for scripts that
-- read no spec or move no status index.
local function open_run(key, events, specs, uid, now, max_events, index_prefix)
  return {key = key, events = events, specs = specs, uid = uid, now = now,
    max_events = max_events, index_prefix = index_prefix}
end

-- A transition's tally. `known` holds what the script has read already, not read again:
-- `active` (the run's counter as stored), `limit` (its concurrency limit), `next` (job → its
-- `.next`); `active_delta` the slots the transition frees or takes before any hand-out (-1: the
-- finishing attempt's); `carry` the queue slot a worker offers (hand_out).
local function new_step(known)
  known = known or {}
  return {ready = {}, ended = 0, active_delta = known.active_delta or 0, active = known.active,
    limit = known.limit, next = known.next or {}, carry = known.carry}
end

local function split(list, sep)
  local out = {}
  if list then
    for item in string.gmatch(list, '[^' .. sep .. ']+') do table.insert(out, item) end
  end
  return out
end

-- Appends one transition to the event stream (capped, approximately, at max_events entries).
local function emit(run, job, status, reason, attempt)
  local fields = {'uid', run.uid, 'status', status, 'time', run.now}
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
  redis.call('XADD', run.events, 'MAXLEN', '~', run.max_events, '*', unpack(fields))
end

-- Sets the run's status and moves it between the per-status indexes (`<prefix>runs:status:<S>`).
local function set_run_status(run, old_status, new_status)
  redis.call('HSET', run.key, 'status', new_status)
  if old_status then redis.call('ZREM', run.index_prefix .. old_status, run.uid) end
  redis.call('ZADD', run.index_prefix .. new_status, 0, run.uid)
end

-- Counts a job's end in `<prefix>jobs:ended` (keys.ts: jobsEnded), for the jobs-by-status metric.
local function count_job_end(run, status)
  local prefix = string.sub(run.index_prefix, 1, -(#'runs:status:' + 1))
  redis.call('HINCRBY', prefix .. 'jobs:ended', status, 1)
end

-- "job/attempt/executor": what the caller needs to enqueue a ready attempt.
local function entry(job, attempt, executor)
  return job .. '/' .. attempt .. '/' .. (executor or '')
end

local function ready_entry(run, job)
  local f = redis.call('HMGET', run.key, job .. '.attempt', job .. '.exec')
  return entry(job, f[1], f[2])
end

-- Records a job's final status. `attempt` is the job's current attempt, read when not given;
-- `had_reason` false says the job has no reason to clear (nil: it may have one); `extra` holds
-- more fields to set in the same write.
local function end_job(run, step, name, status, reason, attempt, had_reason, extra)
  local fields = extra or {}
  table.insert(fields, name .. '.status')
  table.insert(fields, status)
  table.insert(fields, name .. '.finished')
  table.insert(fields, run.now)
  if reason ~= '' then
    table.insert(fields, name .. '.reason')
    table.insert(fields, reason)
  elseif had_reason ~= false then
    redis.call('HDEL', run.key, name .. '.reason')
  end
  redis.call('HSET', run.key, unpack(fields))
  if status == 'FAILED' then
    -- A job allowed to fail (`.tolerate`) is listed apart: it does not fail the run.
    local list = redis.call('HGET', run.key, name .. '.tolerate') and 'tolerated' or 'failedJobs'
    local failed = redis.call('HGET', run.key, list)
    redis.call('HSET', run.key, list, failed and (failed .. ',' .. name) or name)
  end
  step.ended = step.ended + 1
  count_job_end(run, status)
  emit(run, name, status, reason, attempt or redis.call('HGET', run.key, name .. '.attempt'))
end

-- The run's concurrency limit (0: none), read once per transition.
local function concurrency_limit(run, step)
  if not step.limit then step.limit = tonumber(redis.call('HGET', run.key, 'concurrency') or '0') end
  return step.limit
end

-- How many of the run's jobs are queued or running now (`active` as stored, read once per
-- transition unless the script had read it, plus this transition's changes).
local function active_now(run, step)
  if not step.active then step.active = tonumber(redis.call('HGET', run.key, 'active') or '0') end
  return step.active + step.active_delta
end

-- Writes the counters' changes (see step). `done`, when given, is `done` as read at the start:
-- both are then set in one write (`active` as well, from active_now).
local function flush_counts(run, step, done)
  if done then
    redis.call('HSET', run.key, 'active', active_now(run, step), 'done', done + step.ended)
    return
  end
  if step.active_delta ~= 0 then redis.call('HINCRBY', run.key, 'active', step.active_delta) end
  if step.ended > 0 then redis.call('HINCRBY', run.key, 'done', step.ended) end
end

-- Appends what a worker needs to run a job: its name, attempt and spec (from the run's spec
-- hash), then each ancestor (the jobs it depends on, directly or through others: `deps` is the
-- job's `.deps`) that recorded outputs, with them (job, outputs, ...). Ancestors are walked one
-- generation per read, and only when the run has outputs at all (`with_outputs`).
local function append_runnable(run, result, name, attempt, deps, with_outputs)
  table.insert(result, name)
  table.insert(result, attempt)
  table.insert(result, redis.call('HGET', run.specs, name .. '.spec'))
  if not with_outputs then return result end
  local seen, ancestors, generation = {}, {}, {}
  local function add(dependencies)
    for dep in string.gmatch(dependencies or '', '([^=;]+)=[^;]+') do
      if not seen[dep] then
        seen[dep] = true
        table.insert(ancestors, dep)
        table.insert(generation, dep)
      end
    end
  end
  add(deps)
  while #generation > 0 do
    local fields = {}
    for i, dep in ipairs(generation) do fields[i] = dep .. '.deps' end
    generation = {}
    for _, dependencies in ipairs(redis.call('HMGET', run.key, unpack(fields))) do
      if dependencies then add(dependencies) end
    end
  end
  if #ancestors == 0 then return result end
  local fields = {}
  for i, dep in ipairs(ancestors) do fields[i] = dep .. '.outputs' end
  local outputs = redis.call('HMGET', run.key, unpack(fields))
  for i, dep in ipairs(ancestors) do
    if outputs[i] then
      table.insert(result, dep)
      table.insert(result, outputs[i])
    end
  end
  return result
end

-- Hands a slot to a ready job: it goes to its executor's queue, or, when the caller is a worker
-- offering to carry one job of its executor on (`step.carry`: the BullMQ job it holds, and its
-- executor) and has not yet, it starts at once in that worker's slot. A carried job records
-- its carrier (`.via`), and the carrier its latest carried job (`.cont`): start-job.lua resumes
-- it when the carrier is delivered again after its worker stopped. `f`: the job's `.attempt`,
-- `.exec`, `.reason`, `.deps`, `.any` and `.when`, when already read.
local function hand_out(run, step, name, f)
  step.active_delta = step.active_delta + 1
  f = f or redis.call('HMGET', run.key, name .. '.attempt', name .. '.exec', name .. '.reason',
    name .. '.deps', name .. '.any', name .. '.when')
  local attempt = f[1]
  local carry = step.carry
  -- A job with a condition is not carried on: it is decided before it may show RUNNING.
  if carry and not step.carried and (f[2] or '') == carry.executor and not f[6] then
    redis.call('HSET', run.key, name .. '.status', 'RUNNING', name .. '.started', run.now,
      name .. '.queued', '1', name .. '.via', carry.id, carry.job .. '.cont', name .. '/' .. attempt)
    if f[3] then redis.call('HDEL', run.key, name .. '.reason') end
    step.carried = {name, attempt, f[4]} -- its RUNNING event follows the transition's other events
    return
  end
  redis.call('HSET', run.key, name .. '.queued', '1')
  table.insert(step.ready, entry(name, attempt, f[2]))
end

-- Hands a slot to a ready job, or holds it when the run is at its concurrency limit or others
-- are held already (they go first: release_held hands out the slots in the order jobs became
-- ready).
local function admit(run, step, name, f)
  local limit = concurrency_limit(run, step)
  if limit > 0 then
    local held = redis.call('HGET', run.key, 'held')
    if held or active_now(run, step) >= limit then
      redis.call('HSET', run.key, 'held', held and (held .. ',' .. name) or name,
        name .. '.reason', 'waiting for one of the run\'s ' .. limit .. ' concurrency slots')
      return
    end
  end
  hand_out(run, step, name, f)
end

-- Hands the slots freed by ended jobs to the jobs held longest.
local function release_held(run, step)
  local limit = concurrency_limit(run, step)
  if limit == 0 then return end -- nothing is ever held
  local held = split(redis.call('HGET', run.key, 'held'), ',')
  if #held == 0 then return end
  while #held > 0 and active_now(run, step) < limit do
    hand_out(run, step, table.remove(held, 1))
  end
  if #held > 0 then redis.call('HSET', run.key, 'held', table.concat(held, ','))
  else redis.call('HDEL', run.key, 'held') end
end

-- The rule of src/core/dag.ts `decide` for a job whose dependencies have all ended: nil when it
-- may run, else the reason it is skipped (`deps`: its `.deps`, "dep=ACCEPTED|ACCEPTED;...";
-- `groups`: its `.any`, either-of groups "a,b;c,d", each needing one member SUCCESSFUL).
local function skip_reason(run, deps_field, groups)
  local deps, accepted, fields = {}, {}, {}
  for dep, accepts in string.gmatch(deps_field or '', '([^=;]+)=([^;]+)') do
    table.insert(deps, dep)
    table.insert(accepted, accepts)
    table.insert(fields, dep .. '.status')
  end
  if #deps == 0 then return nil end
  -- Every dependency's status in one read (a join has many).
  local statuses = redis.call('HMGET', run.key, unpack(fields))
  local status_of = {}
  for i, dep in ipairs(deps) do
    local dep_status, accepts = statuses[i], accepted[i]
    status_of[dep] = dep_status
    if string.find('|' .. accepts .. '|', '|' .. dep_status .. '|', 1, true) == nil then
      return 'dependency "' .. dep .. '" ended ' .. dep_status ..
        '; this job runs only when it is ' .. string.gsub(accepts, '|', ' or ')
    end
  end
  for _, group in ipairs(split(groups, ';')) do
    local members, ends, succeeded = split(group, ','), {}, false
    for _, member in ipairs(members) do
      succeeded = succeeded or status_of[member] == 'SUCCESSFUL'
      table.insert(ends, '"' .. member .. '" ' .. status_of[member])
    end
    if not succeeded then
      return 'none of its either-of dependencies ended SUCCESSFUL (' .. table.concat(ends, ', ') ..
        '); this job needs at least one'
    end
  end
  return nil
end

-- The most items one forEach job fans out over (src/core/foreach.ts: MAX_FOREACH_ITEMS).
local MAX_FOREACH_ITEMS = 1000

-- HSET of a list of field-value pairs, in slices (Lua's unpack returns 8,000 values at most).
local function hset_all(key, pairs_list)
  for i = 1, #pairs_list, 1000 do
    redis.call('HSET', key, unpack(pairs_list, i, math.min(i + 999, #pairs_list)))
  end
end

-- The items of a forEach job's array (src/core/foreach.ts), or nil and why they cannot be read:
-- `source` names the output, `outputs` is its producer's outputs (JSON) or nil.
local function foreach_items(source, key, outputs)
  local decoded_ok, decoded = pcall(cjson.decode, outputs or 'null')
  local raw = decoded_ok and type(decoded) == 'table' and decoded[key] or nil
  if type(raw) ~= 'string' then return nil, source .. ' is absent' end
  local shown = string.sub(raw, 1, 80) .. (#raw > 80 and '...' or '')
  local parsed_ok, parsed = pcall(cjson.decode, raw)
  if not parsed_ok or type(parsed) ~= 'table' or not string.find(raw, '^%s*%[') then
    return nil, source .. ' is not a JSON array: ' .. shown
  end
  local items = {}
  for _, item in pairs(parsed) do
    if type(item) == 'string' then table.insert(items, item)
    elseif type(item) == 'number' then table.insert(items, cjson.encode(item))
    else return nil, source .. ' holds an item that is not a string or a number: ' .. shown end
  end
  if #items > MAX_FOREACH_ITEMS then
    return nil, source .. ' has ' .. #items .. ' items, over the limit of ' .. MAX_FOREACH_ITEMS
  end
  return items
end

-- Expands a forEach job whose dependencies have ended as it needs (`f`, as decide read it):
-- one PENDING instance per item, `<job>-<i>`, with the job's dependencies, spec (and its item)
-- and its condition, each admitted at once; the job, RUNNING, now waits for them. Its end
-- (decide, once they all ended) is FAILED if one of them FAILED, else SUCCESSFUL. No array to
-- read fails it, an empty one skips it.
local function expand_for_each(run, step, name, f, stack)
  local producer, key = string.match(f[8], '^([^.]+)%.(.+)$')
  local source = 'forEach: jobs.' .. producer .. '.outputs.' .. key
  local items, problem = foreach_items(source, key, redis.call('HGET', run.key, producer .. '.outputs'))
  if not items or #items == 0 then
    end_job(run, step, name, items and 'SKIPPED' or 'FAILED',
      problem or (source .. ' is an empty array: nothing to run'), f[1])
    table.insert(stack, name)
    return
  end
  local spec = redis.call('HGET', run.specs, name .. '.spec')
  local extra = redis.call('HMGET', run.key, name .. '.retries', name .. '.tolerate', name .. '.cleanup')
  local fields, specs, names, edges = {}, {}, {}, {}
  for i, item in ipairs(items) do
    local instance = name .. '-' .. (i - 1)
    names[i] = instance
    edges[i] = instance .. '=SUCCESSFUL|FAILED|SKIPPED|CANCELED'
    for _, pair in ipairs({{'status', 'PENDING'}, {'attempt', '1'}, {'wait', '0'},
        {'exec', f[2] or ''}, {'next', name}, {'deps', f[4]}, {'retries', extra[1]},
        {'tolerate', extra[2]}, {'cleanup', extra[3]}, {'when', f[6]}}) do
      if pair[2] then
        table.insert(fields, instance .. '.' .. pair[1])
        table.insert(fields, pair[2])
      end
    end
    table.insert(specs, instance .. '.spec')
    table.insert(specs, '{"item":' .. cjson.encode(item) .. ',' .. string.sub(spec, 2))
  end
  hset_all(run.key, fields)
  hset_all(run.specs, specs)
  -- The instances follow the job in the run's list of jobs.
  local jobs = split(redis.call('HGET', run.key, 'jobs'), ',')
  local listed = {}
  for _, job in ipairs(jobs) do
    table.insert(listed, job)
    if job == name then for _, instance in ipairs(names) do table.insert(listed, instance) end end
  end
  redis.call('HSET', run.key, 'jobs', table.concat(listed, ','), name .. '.status', 'RUNNING',
    name .. '.started', run.now, name .. '.items', #items, name .. '.wait', #items,
    name .. '.deps', table.concat(edges, ';'))
  redis.call('HINCRBY', run.key, 'total', #items)
  if f[3] then redis.call('HDEL', run.key, name .. '.reason') end
  emit(run, name, 'RUNNING', nil, f[1])
  -- What hand_out would read of each instance, known: not read again 1,000 times.
  local known = {'1', f[2], false, f[4], false, f[6]}
  for _, instance in ipairs(names) do admit(run, step, instance, known) end
end

-- A forEach job whose instances have all ended: FAILED if one FAILED, else SUCCESSFUL.
local function end_for_each(run, step, name, f, stack)
  local names, fields = {}, {}
  for i = 1, tonumber(f[9]) do
    names[i] = name .. '-' .. (i - 1)
    fields[i] = names[i] .. '.status'
  end
  local failed = {}
  for i, status in ipairs(redis.call('HMGET', run.key, unpack(fields))) do
    if status == 'FAILED' then table.insert(failed, '"' .. names[i] .. '"') end
  end
  local reason = ''
  if #failed > 0 then
    reason = (#failed == 1 and 'instance ' or 'instances ') .. table.concat(failed, ', ', 1,
      math.min(#failed, 10)) .. (#failed > 10 and ', ...' or '') .. ' of ' .. #names .. ' failed'
  end
  end_job(run, step, name, #failed > 0 and 'FAILED' or 'SUCCESSFUL', reason, f[1])
  table.insert(stack, name)
end

-- Decides a job whose dependencies have all ended: queue it (a forEach job: expand it), or skip
-- it and go on from it. A job that ended before its dependencies did (failFast) is left as it
-- is; an expanded forEach job, whose instances have all ended, ends.
local function decide(run, step, name, stack)
  -- What hand_out reads, read once with the dependencies.
  local f = redis.call('HMGET', run.key, name .. '.attempt', name .. '.exec', name .. '.reason',
    name .. '.deps', name .. '.any', name .. '.when', name .. '.status', name .. '.each',
    name .. '.items')
  if f[9] and f[7] == 'RUNNING' then return end_for_each(run, step, name, f, stack) end
  if f[7] ~= 'PENDING' then return end
  local reason = skip_reason(run, f[4], f[5])
  if reason then
    end_job(run, step, name, 'SKIPPED', reason, f[1])
    table.insert(stack, name)
  elseif f[8] then
    expand_for_each(run, step, name, f, stack)
  else
    admit(run, step, name, f)
  end
end

-- failFast (src/core/dag.ts evaluate): `failed`, an instance of the matrix job `matrix`, ended
-- FAILED: the instances that have not started end SKIPPED (a queued one gives its slot back, a
-- held one leaves the held list) and are pushed on the stack for their dependents.
local function fail_fast(run, step, matrix, failed, stack)
  local reason = 'instance "' .. failed .. '" of "' .. matrix .. '" failed (failFast)'
  local skipped = {}
  for _, name in ipairs(split(redis.call('HGET', run.key, matrix .. '.group'), ',')) do
    local f = redis.call('HMGET', run.key, name .. '.status', name .. '.queued', name .. '.attempt')
    if f[1] == 'PENDING' then
      if f[2] == '1' then step.active_delta = step.active_delta - 1 end
      end_job(run, step, name, 'SKIPPED', reason, f[3])
      skipped[name] = true
      table.insert(stack, name)
    end
  end
  local held = redis.call('HGET', run.key, 'held')
  if not held then return end
  local still = {}
  for _, name in ipairs(split(held, ',')) do
    if not skipped[name] then table.insert(still, name) end
  end
  if #still > 0 then redis.call('HSET', run.key, 'held', table.concat(still, ','))
  else redis.call('HDEL', run.key, 'held') end
end

-- From jobs that just ended, decides each dependent whose last dependency that was (skips
-- propagate through the stack).
local function propagate(run, step, stack)
  while #stack > 0 do
    local ended = table.remove(stack)
    local dependents = step.next[ended]
    if dependents == nil then dependents = redis.call('HGET', run.key, ended .. '.next') end
    for _, d in ipairs(split(dependents, ',')) do
      if redis.call('HINCRBY', run.key, d .. '.wait', -1) == 0 then decide(run, step, d, stack) end
    end
  end
end

-- Whether a failed job's failure was handled: a fallback (a dependent that runs only when it
-- FAILED) ran successfully. An `always` dependent (cleanup) runs whatever happened: not a fallback.
local function handled(run, name)
  for _, d in ipairs(split(redis.call('HGET', run.key, name .. '.next'), ',')) do
    local f = redis.call('HMGET', run.key, d .. '.status', d .. '.deps')
    for dep, accepts in string.gmatch(f[2] or '', '([^=;]+)=([^;]+)') do
      if f[1] == 'SUCCESSFUL' and dep == name and accepts == 'FAILED' then return true end
    end
  end
  return false
end

-- Closes the run once every job has ended: CANCELED when it was being canceled (cancel-run.lua:
-- its cleanup jobs ran first), FAILED if any job failed, else SUCCESSFUL (with the tolerated
-- failures, those of jobs allowed to fail, as its reason: src/core/dag.ts toleratedReason).
local function close_if_done(run, step)
  local f = redis.call('HMGET', run.key, 'done', 'total', 'failedJobs', 'status', 'tolerated',
    'canceling')
  if tonumber(f[1]) + step.ended ~= tonumber(f[2]) then return end
  if f[6] then
    set_run_status(run, f[4], 'CANCELED')
    redis.call('HSET', run.key, 'finished', run.now, 'reason', f[6])
    redis.call('HDEL', run.key, 'canceling')
    emit(run, nil, 'CANCELED', f[6])
    return
  end
  local status, reason = 'SUCCESSFUL', ''
  if f[5] and not f[3] then
    local names = split(f[5], ',')
    reason = (#names == 1 and 'job "' or 'jobs "') .. table.concat(names, '", "') ..
      '" failed (tolerated: allowFailure)'
  end
  if f[3] then
    status = 'FAILED'
    local names = split(f[3], ',')
    reason = (#names == 1 and 'job "' or 'jobs "') .. table.concat(names, '", "') .. '" failed'
    local all_handled = true
    for _, name in ipairs(names) do all_handled = all_handled and handled(run, name) end
    -- The original chainr's rule: a run with a failed job is FAILED, even when a fallback ran.
    if all_handled then reason = reason .. ' (handled by a fallback; a run with a failed job is FAILED)' end
  end
  set_run_status(run, f[4], status)
  redis.call('HSET', run.key, 'finished', run.now)
  if reason ~= '' then redis.call('HSET', run.key, 'reason', reason) end
  emit(run, nil, status, reason)
end
