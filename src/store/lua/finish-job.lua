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
  ARGV[4] status: SUCCESSFUL | FAILED, or SKIPPED when the job's `when` condition was false.
          A job with a condition is finished from PENDING (start-job.lua answered 'decide'):
          SKIPPED when false, FAILED when it could not be evaluated
  ARGV[5] exit code, or '' when the process did not exit on its own
  ARGV[6] reason ('' for none)
  ARGV[7] now (ms since epoch)
  ARGV[8] max events
  ARGV[9] prefix of the per-status run indexes
  ARGV[10] outputs as a JSON object, or ''
  ARGV[11] the executor of the caller's queue, when it offers to carry a ready job on ('' not)
  ARGV[12] the job the caller holds from its queue (the carrier), "job/attempt"
  ARGV[13] the wait before each retry in ms, comma-separated, the first retry's first ('' none):
           the reason of a retried attempt says when the next one is due
  ARGV[14] the artifacts it stored as a JSON array (ArtifactRecord), or ''
  Run hash fields: src/store/run-hash.ts.
  Returns {code, ready...} with ready entries "job/attempt/executor", code one of:
    'ok'        recorded; the ready jobs listed must be enqueued. Here the list is preceded by
                its length, and may be followed by a job carried on: its name, attempt, spec,
                and its ancestors' outputs (dep, outputs, ...). It is RUNNING: the caller runs
                it at once, in the same queue slot (includes.lua: hand_out)
    'retry'     the attempt failed and will be retried: enqueue the entry listed after the
                backoff of the retry whose number (1 for the first) follows it
    'duplicate' this attempt had already ended; the entries listed are its dependents that are
                queued but not started (enqueue them again: enqueueing is idempotent), listed as
                for 'ok', followed by the job its first finish carried on if that one is still
                RUNNING in the caller's slot (run it again: the first answer was lost)
    'ignored'   the run or the job was canceled, or the attempt is not the current one
    'missing'   no such run
]]
local run = open_run(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[7], ARGV[8], ARGV[9])
local job, attempt, status = ARGV[2], ARGV[3], ARGV[4]
local exit_code, reason, outputs = ARGV[5], ARGV[6], ARGV[10]
local carry
if ARGV[11] ~= '' then
  carry = {executor = ARGV[11], id = ARGV[12], job = string.match(ARGV[12], '^(.*)/')}
end

-- What the transition needs, in one read (handed to new_step: `next` and the limit not read again).
local s = redis.call('HMGET', run.key, 'status', job .. '.status', job .. '.attempt', job .. '.retries',
  job .. '.started', job .. '.base', job .. '.next', job .. '.reason', 'concurrency', 'done', 'total',
  'withOutputs', 'active', job .. '.when', job .. '.wait', job .. '.queued', job .. '.ff')
if not s[1] then return {'missing'} end
-- A job canceled while running (its run canceled, its cleanup jobs still going) keeps CANCELED.
if s[1] == 'CANCELED' or s[2] == 'CANCELED' or s[3] ~= attempt then return {'ignored'} end

-- Ends a reply {code, ready...}: the ready entries' count after the code, and the job carried on
-- (if any): its name, attempt, spec, and its ancestors' outputs.
local function reply(step, code)
  local result = step.ready
  table.insert(result, 1, #result)
  table.insert(result, 1, code)
  if not step.carried then return result end
  local c = step.carried
  return append_runnable(run, result, c[1], c[2], c[3], s[12] or outputs ~= '')
end

-- A condition decided false (or not evaluable) ends its job straight from PENDING, once handed out.
local decided = s[2] == 'PENDING' and s[14] and s[15] == '0' and s[16] == '1' and status ~= 'SUCCESSFUL'
if s[2] ~= 'RUNNING' and not decided then
  local step = new_step({carry = carry})
  for _, d in ipairs(split(s[7] or '', ',')) do
    local f = redis.call('HMGET', run.key, d .. '.status', d .. '.queued', d .. '.via', d .. '.attempt',
      d .. '.exec', d .. '.deps')
    if f[1] == 'PENDING' and f[2] == '1' then table.insert(step.ready, entry(d, f[4], f[5])) end
    -- Carried on in this slot by this attempt's first finish, whose answer was lost.
    if carry and f[1] == 'RUNNING' and f[3] == carry.id then step.carried = {d, f[4], f[6]} end
  end
  return reply(step, 'duplicate')
end

-- A wait in the words of the CLI and UI's durations: 800ms, 5s, 2m30s, 1h.
local function wait_text(ms)
  if ms < 1000 then return ms .. 'ms' end
  local s = math.ceil(ms / 1000)
  local h, m = math.floor(s / 3600), math.floor(s % 3600 / 60)
  s = s % 60
  local text = (h > 0 and h .. 'h' or '') .. (m > 0 and m .. 'm' or '') .. (s > 0 and s .. 's' or '')
  return text
end

local number = tonumber(attempt)
-- Retries count from the job's first attempt of this round (`.base`, moved by retry-run).
local retry = number - tonumber(s[6] or '1') + 1
if status == 'FAILED' and retry <= tonumber(s[4] or '0') then
  -- Keep this attempt in the job's history; the next one starts PENDING (and stays active).
  local history = cjson.decode(redis.call('HGET', run.key, job .. '.attempts') or '[]')
  table.insert(history, {attempt = number, status = status, startedAt = tonumber(s[5]),
    finishedAt = tonumber(run.now), exitCode = tonumber(exit_code), reason = reason})
  local why = 'attempt ' .. attempt .. ' failed (' .. reason .. '); retry ' .. retry .. ' of ' .. s[4]
  local wait = tonumber(split(ARGV[13], ',')[retry] or '0')
  if wait > 0 then why = why .. ' in ' .. wait_text(wait) end
  redis.call('HSET', run.key, job .. '.attempts', cjson.encode(history), job .. '.attempt', number + 1,
    job .. '.status', 'PENDING', job .. '.reason', why)
  redis.call('HDEL', run.key, job .. '.started', job .. '.finished', job .. '.exit')
  emit(run, job, 'PENDING', why, number + 1)
  return {'retry', ready_entry(run, job), retry}
end

local extra = {}
if exit_code ~= '' then extra = {job .. '.exit', exit_code} end
if outputs ~= '' then
  -- `withOutputs` tells start-job.lua that ancestors' outputs are worth reading.
  table.insert(extra, job .. '.outputs')
  table.insert(extra, outputs)
  table.insert(extra, 'withOutputs')
  table.insert(extra, '1')
end
if ARGV[14] ~= '' then
  table.insert(extra, job .. '.artifacts')
  table.insert(extra, ARGV[14])
end
local step = new_step({active = tonumber(s[13] or '0'), active_delta = -1,
  limit = tonumber(s[9] or '0'), next = {[job] = s[7] or ''}, carry = carry})
end_job(run, step, job, status, reason, attempt, s[8] ~= false, extra)
local ended = {job}
if status == 'FAILED' and s[17] then fail_fast(run, step, s[17], job, ended) end
propagate(run, step, ended)
release_held(run, step)
-- `done` as read, plus the jobs this transition ended: the run can only close once it reaches total.
if tonumber(s[10] or '0') + step.ended >= tonumber(s[11] or '0') then close_if_done(run, step) end
flush_counts(run, step, tonumber(s[10] or '0'))
if step.carried then emit(run, step.carried[1], 'RUNNING', nil, step.carried[2]) end
-- Nothing carried on: the caller's queue entry is over, and its owner (start-job.lua) guards
-- nothing any more. Dropped, it costs the finished run's hash no bytes.
if carry and not step.carried then redis.call('HDEL', run.key, carry.job .. '.owner') end
return reply(step, 'ok')
