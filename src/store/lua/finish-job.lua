--[[ Records an attempt's result and advances the run's DAG.
  A FAILED attempt with retries left becomes a new PENDING attempt (returned as 'retry'; the
  caller enqueues it after the backoff). Otherwise the job ends, each dependent whose last
  dependency just ended is decided (includes.lua: decide, propagate), held jobs take the freed
  slot, and the run is closed when every job has ended. Work is proportional to the finished
  job's dependents, never to the size of the run.
  KEYS[1] run hash
  KEYS[2] event stream
  KEYS[3] the run's spec hash (the spec of a job carried on)
  ARGV[1] run uid
  ARGV[2] job name
  ARGV[3] attempt
  ARGV[4] status: SUCCESSFUL | FAILED
  ARGV[5] exit code, or '' when the process did not exit on its own
  ARGV[6] reason ('' for none)
  ARGV[7] now (ms since epoch)
  ARGV[8] max events
  ARGV[9] prefix of the per-status run indexes
  ARGV[10] outputs as a JSON object, or ''
  ARGV[11] the executor of the caller's queue, when it offers to carry a ready job on ('' not)
  ARGV[12] the job the caller holds from its queue (the carrier), "job/attempt"
  Returns {code, ready...} with ready entries "job/attempt/executor", code one of:
    'ok'        recorded; the ready jobs listed must be enqueued. Here the list is preceded by
                its length, and may be followed by a job carried on: its name, attempt, spec,
                and its dependencies' outputs (dep, outputs, ...). It is RUNNING: the caller runs
                it at once, in the same queue slot (includes.lua: hand_out)
    'retry'     the attempt failed and will be retried: enqueue the entry listed after the
                backoff of the retry whose number (1 for the first) follows it
    'duplicate' this attempt had already ended; the entries listed are its dependents that are
                queued but not started (enqueue them again: enqueueing is idempotent), listed as
                for 'ok', followed by the job its first finish carried on if that one is still
                RUNNING in the caller's slot (run it again: the first answer was lost)
    'ignored'   the run was canceled, or the attempt is not the current one
    'missing'   no such run
]]
ctx.run, ctx.events, ctx.specs = KEYS[1], KEYS[2], KEYS[3]
ctx.uid, ctx.now, ctx.max_events, ctx.index_prefix = ARGV[1], ARGV[7], ARGV[8], ARGV[9]
local run, job, attempt, status = ctx.run, ARGV[2], ARGV[3], ARGV[4]
local exit_code, reason, outputs = ARGV[5], ARGV[6], ARGV[10]
if ARGV[11] ~= '' then
  ctx.carry = {executor = ARGV[11], id = ARGV[12], job = string.match(ARGV[12], '^(.*)/')}
end

-- What the transition needs, in one read (the includes take `next` and the limit from ctx).
local s = redis.call('HMGET', run, 'status', job .. '.status', job .. '.attempt', job .. '.retries',
  job .. '.started', job .. '.base', job .. '.next', job .. '.reason', 'concurrency', 'done', 'total',
  'withOutputs', 'active')
if not s[1] then return {'missing'} end
if s[1] == 'CANCELED' or s[3] ~= attempt then return {'ignored'} end

-- Ends a reply {code, ready...}: the ready entries' count after the code, and the job carried on
-- (if any): its name, attempt, spec, and its dependencies' outputs.
local function reply(code)
  local result = ctx.result
  table.insert(result, 1, #result)
  table.insert(result, 1, code)
  if not ctx.carried then return result end
  local c = ctx.carried
  return append_runnable(result, c[1], c[2], c[3], s[12] or outputs ~= '')
end

if s[2] ~= 'RUNNING' then
  for _, d in ipairs(split(s[7] or '', ',')) do
    local f = redis.call('HMGET', run, d .. '.status', d .. '.queued', d .. '.via', d .. '.attempt',
      d .. '.exec', d .. '.deps')
    if f[1] == 'PENDING' and f[2] == '1' then table.insert(ctx.result, entry(d, f[4], f[5])) end
    -- Carried on in this slot by this attempt's first finish, whose answer was lost.
    if ctx.carry and f[1] == 'RUNNING' and f[3] == ctx.carry.id then ctx.carried = {d, f[4], f[6]} end
  end
  return reply('duplicate')
end

local number = tonumber(attempt)
-- Retries count from the job's first attempt of this round (`.base`, moved by retry-run).
local retry = number - tonumber(s[6] or '1') + 1
if status == 'FAILED' and retry <= tonumber(s[4] or '0') then
  -- Keep this attempt in the job's history; the next one starts PENDING (and stays active).
  local history = cjson.decode(redis.call('HGET', run, job .. '.attempts') or '[]')
  table.insert(history, {attempt = number, status = status, startedAt = tonumber(s[5]),
    finishedAt = tonumber(ctx.now), exitCode = tonumber(exit_code), reason = reason})
  local why = 'attempt ' .. attempt .. ' failed (' .. reason .. '); retrying'
  redis.call('HSET', run, job .. '.attempts', cjson.encode(history), job .. '.attempt', number + 1,
    job .. '.status', 'PENDING', job .. '.reason', why)
  redis.call('HDEL', run, job .. '.started', job .. '.finished', job .. '.exit')
  emit(job, 'PENDING', why, number + 1)
  return {'retry', ready_entry(job), retry}
end

local extra = {}
if exit_code ~= '' then extra = {job .. '.exit', exit_code} end
if outputs ~= '' then
  -- `withOutputs` tells start-job.lua that dependencies' outputs are worth reading.
  table.insert(extra, job .. '.outputs')
  table.insert(extra, outputs)
  table.insert(extra, 'withOutputs')
  table.insert(extra, '1')
end
ctx.active, ctx.active_delta = tonumber(s[13] or '0'), -1
ctx.next[job] = s[7] or ''
ctx.limit = tonumber(s[9] or '0')
end_job(job, status, reason, attempt, s[8] ~= false, extra)
propagate({job})
release_held()
-- `done` as read, plus the jobs this transition ended: the run can only close once it reaches total.
if tonumber(s[10] or '0') + ctx.ended >= tonumber(s[11] or '0') then close_if_done() end
flush_counts(tonumber(s[10] or '0'))
if ctx.carried then emit(ctx.carried[1], 'RUNNING', nil, ctx.carried[2]) end
return reply('ok')
