--[[ Repairs a run that stopped advancing (level-triggered: safe to run at any time, any number
  of times, from several recyclers): recounts `done` and `failedJobs` from the jobs' statuses,
  decides every PENDING job whose dependencies have all ended (whatever its counter says), and
  closes the run when every job has ended.
  KEYS[1] run hash
  KEYS[2] event stream
  ARGV[1] run uid
  ARGV[2] now (ms since epoch)
  ARGV[3] max events
  ARGV[4] prefix of the per-status run indexes
  Returns {code, ...}:
    {'ok', repairs, ready...}  repairs made (0: the run was consistent); enqueue the ready entries
    {'ended'}                  the run had already ended
    {'missing'}                no such run
]]
ctx.run, ctx.events = KEYS[1], KEYS[2]
ctx.uid, ctx.now, ctx.max_events, ctx.index_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local run = ctx.run
local s = redis.call('HMGET', run, 'status', 'jobs', 'done', 'failedJobs')
if not s[1] then return {'missing'} end
if s[1] ~= 'PENDING' and s[1] ~= 'RUNNING' then return {'ended'} end

local jobs = split(s[2], ',')
local terminal = {SUCCESSFUL = true, FAILED = true, SKIPPED = true, CANCELED = true}
local status = {}
local done, failed = 0, {}
for _, job in ipairs(jobs) do
  status[job] = redis.call('HGET', run, job .. '.status')
  if terminal[status[job]] then done = done + 1 end
  if status[job] == 'FAILED' then table.insert(failed, job) end
end
local repairs = 0
if tonumber(s[3]) ~= done then
  redis.call('HSET', run, 'done', done)
  repairs = repairs + 1
end
local failed_list = #failed > 0 and table.concat(failed, ',') or nil
if failed_list ~= (s[4] or nil) then
  if failed_list then redis.call('HSET', run, 'failedJobs', failed_list) else redis.call('HDEL', run, 'failedJobs') end
  repairs = repairs + 1
end

local stack = {}
for _, job in ipairs(jobs) do
  if status[job] == 'PENDING' and redis.call('HGET', run, job .. '.queued') ~= '1' then
    local waiting = 0
    for dep in string.gmatch(redis.call('HGET', run, job .. '.deps') or '', '([^=;]+)=[^;]+') do
      if not terminal[redis.call('HGET', run, dep .. '.status')] then waiting = waiting + 1 end
    end
    if tostring(waiting) ~= redis.call('HGET', run, job .. '.wait') then
      redis.call('HSET', run, job .. '.wait', waiting)
      repairs = repairs + 1
      local held = ',' .. (redis.call('HGET', run, 'held') or '') .. ','
      if waiting == 0 and not string.find(held, ',' .. job .. ',', 1, true) then decide(job, stack) end
    end
  end
end
propagate(stack)
local before = redis.call('HGET', run, 'status')
close_if_done()
flush_counts()
if redis.call('HGET', run, 'status') ~= before then repairs = repairs + 1 end
table.insert(ctx.result, 1, repairs)
table.insert(ctx.result, 1, 'ok')
return ctx.result
