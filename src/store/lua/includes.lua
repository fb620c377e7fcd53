-- Shared pieces, prepended to every script by src/store/scripts.ts.

-- Appends one transition to the event stream (capped, approximately, at max_events entries).
local function emit(events, max_events, uid, job, status, reason, now)
  local fields = {'uid', uid, 'status', status, 'time', now}
  if job then
    table.insert(fields, 'job')
    table.insert(fields, job)
  end
  if reason and reason ~= '' then
    table.insert(fields, 'reason')
    table.insert(fields, reason)
  end
  redis.call('XADD', events, 'MAXLEN', '~', max_events, '*', unpack(fields))
end

local function split(list, sep)
  local out = {}
  if list then
    for item in string.gmatch(list, '[^' .. sep .. ']+') do table.insert(out, item) end
  end
  return out
end
