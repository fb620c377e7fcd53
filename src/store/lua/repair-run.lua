--[[ Repairs a run that stopped advancing (level-triggered: safe to run at any time, any number
  of times, from several recyclers): recounts `done` and `failedJobs` from the jobs' statuses,
  decides every PENDING job whose dependencies have all ended (whatever its counter says), and
  closes the run when every job has ended.
  KEYS[1] run hash
  KEYS[2] event stream
  KEYS[3] the run's spec hash (a forEach job expanded writes its instances' specs)
  ARGV[1] run uid
  ARGV[2] now (ms since epoch)
  ARGV[3] max events
  ARGV[4] prefix of the per-status run indexes
  Run hash fields: src/store/run-hash.ts.
  Returns {code, ...}:
    {'ok', repairs, ready...}  repairs made (0: the run was consistent); enqueue the ready entries
    {'ended'}                  the run had already ended
    {'missing'}                no such run
]]
local run = open_run(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
local s = redis.call('HMGET', run.key, 'status', 'jobs', 'done', 'failedJobs', 'tolerated')
if not s[1] then return {'missing'} end
if s[1] ~= 'PENDING' and s[1] ~= 'RUNNING' then return {'ended'} end

local jobs = split(s[2], ',')
local terminal = {SUCCESSFUL = true, FAILED = true, SKIPPED = true, CANCELED = true}
local status = {}
local done, failed, tolerated = 0, {}, {}
for _, job in ipairs(jobs) do
  status[job] = redis.call('HGET', run.key, job .. '.status')
  if terminal[status[job]] then done = done + 1 end
  if status[job] == 'FAILED' then
    table.insert(redis.call('HGET', run.key, job .. '.tolerate') and tolerated or failed, job)
  end
end
local repairs = 0
if tonumber(s[3]) ~= done then
  redis.call('HSET', run.key, 'done', done)
  repairs = repairs + 1
end
-- The lists of failed jobs (`field`), as recounted: a repair when they differ from what is stored.
local function recount(field, names, stored)
  local list = #names > 0 and table.concat(names, ',') or nil
  if list == (stored or nil) then return end
  if list then redis.call('HSET', run.key, field, list) else redis.call('HDEL', run.key, field) end
  repairs = repairs + 1
end
recount('failedJobs', failed, s[4])
recount('tolerated', tolerated, s[5])

local step = new_step()
local stack = {}
for _, job in ipairs(jobs) do
  if status[job] == 'PENDING' and redis.call('HGET', run.key, job .. '.queued') ~= '1' then
    local waiting = 0
    for dep in string.gmatch(redis.call('HGET', run.key, job .. '.deps') or '', '([^=;]+)=[^;]+') do
      if not terminal[redis.call('HGET', run.key, dep .. '.status')] then waiting = waiting + 1 end
    end
    if tostring(waiting) ~= redis.call('HGET', run.key, job .. '.wait') then
      redis.call('HSET', run.key, job .. '.wait', waiting)
      repairs = repairs + 1
      local held = ',' .. (redis.call('HGET', run.key, 'held') or '') .. ','
      if waiting == 0 and not string.find(held, ',' .. job .. ',', 1, true) then decide(run, step, job, stack) end
    end
  end
end
propagate(run, step, stack)
local before = redis.call('HGET', run.key, 'status')
close_if_done(run, step)
flush_counts(run, step)
if redis.call('HGET', run.key, 'status') ~= before then repairs = repairs + 1 end
table.insert(step.ready, 1, repairs)
table.insert(step.ready, 1, 'ok')
return step.ready
