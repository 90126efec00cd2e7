-- wrk script: POST {"op":"increment"} to /entities/counter/<id> once for every id 0..N-1, then stop.
--
--   wrk -t1 -c64 -d600s --timeout 60s --latency -s bench/wrk-walk.lua http://127.0.0.1:18480 -- 100000
--
-- Script arguments: N, then the number of wrk threads (default 1; thread k of T sends k, k+T, k+2T, ...), then
-- an optional prefix for the ids (ids <prefix>0 .. <prefix>N-1).
-- Each connection sends its next id only after the response to its previous one. The id is claimed in
-- delay(), which wrk calls before every request when the script defines it; once no id is left, delay()
-- parks the connection for an hour. A thread stops (wrk.thread:stop()) when it has a response for each of
-- its ids; the last thread to finish then sends wrk itself SIGINT (wrk's main thread otherwise sleeps for
-- the whole -d), so wrk's Requests/sec, latency distribution and duration cover exactly the N requests
-- (plus the few ms of that signal). -d is only a safety limit: a request lost to a socket error never gets
-- its response.
--
-- done() prints one line:
--   WALK ids=N sent=.. answered=.. ok2xx=.. non2xx=.. extra=.. duration_s=.. ids_per_s=.. p50_ms=.. p90_ms=..
--        p99_ms=.. p999_ms=.. max_ms=.. statuses=200:N values=1:N err_connect=.. err_read=.. err_write=..
--        err_timeout=..
-- values counts the "value" of the 2xx replies (1 after a first write, 2 when a second increment found the
-- first one's state). extra counts requests sent after the ids ran out (only after a reconnect; not ids).

local threads = {}

function setup(thread)
  -- setup() runs in wrk's main Lua state only: one file for all threads, one line per finished thread
  done_file = done_file or os.tmpname()
  table.insert(threads, thread)
  thread:set("tid", #threads - 1)
  thread:set("done_file", done_file)
end

local headers = { ["Content-Type"] = "application/json" }
local body = '{"op":"increment"}'
local PARK_MS = 3600 * 1000

function init(args)
  n = tonumber(args[1] or "") or error("script argument 1 must be the number of ids")
  step = tonumber(args[2] or "1")
  prefix = args[3] or ""
  next_id = tid
  mine = 0
  if tid < n then mine = math.floor((n - 1 - tid) / step) + 1 end
  queue, head, tail = {}, 1, 1
  delays_started = false
  sent, answered, ok2xx, non2xx, extra = 0, 0, 0, 0, 0
  statuses, values = {}, {}
end

function delay()
  delays_started = true
  if next_id < n then
    queue[tail] = next_id
    tail = tail + 1
    next_id = next_id + step
    return 0
  end
  return PARK_MS
end

function request()
  local id
  if head < tail then
    id = queue[head]
    queue[head] = nil
    head = head + 1
  elseif not delays_started then
    -- wrk calls request() once before the threads start, to check the script: this request is not sent.
    return wrk.format("POST", "/entities/counter/wrk-dry-run", headers, body)
  elseif next_id < n then
    -- a reconnected connection sends again without calling delay()
    id = next_id
    next_id = next_id + step
  else
    extra = extra + 1
    return wrk.format("GET", "/health/ready")
  end
  sent = sent + 1
  return wrk.format("POST", "/entities/counter/" .. prefix .. id, headers, body)
end

function response(status, hdrs, resp_body)
  answered = answered + 1
  local s = tostring(status)
  statuses[s] = (statuses[s] or 0) + 1
  if status >= 200 and status < 300 then
    ok2xx = ok2xx + 1
    local v = resp_body and string.match(resp_body, '"value"%s*:%s*(-?%d+)') or "?"
    values[v] = (values[v] or 0) + 1
  else
    non2xx = non2xx + 1
  end
  if answered == mine then
    wrk.thread:stop()
    -- $PPID of the shell io.popen starts is wrk; its SIGINT handler ends the run. (Not os.execute: system()
    -- ignores SIGINT in the whole process while its command runs.)
    io.popen(string.format("echo >>'%s'; [ \"$(wc -l <'%s')\" -ge %d ] && kill -INT $PPID; true",
      done_file, done_file, step)):close()
  end
end

local function joined(t)
  local keys, parts = {}, {}
  for k in pairs(t) do table.insert(keys, k) end
  table.sort(keys)
  for _, k in ipairs(keys) do table.insert(parts, k .. ":" .. t[k]) end
  if #parts == 0 then return "-" end
  return table.concat(parts, ",")
end

function done(summary, latency, requests)
  local total = { sent = 0, answered = 0, ok2xx = 0, non2xx = 0, extra = 0 }
  local st, vals = {}, {}
  for _, t in ipairs(threads) do
    for k in pairs(total) do total[k] = total[k] + (t:get(k) or 0) end
    for k, v in pairs(t:get("statuses") or {}) do st[k] = (st[k] or 0) + v end
    for k, v in pairs(t:get("values") or {}) do vals[k] = (vals[k] or 0) + v end
  end
  if done_file then os.remove(done_file) end
  local ids = threads[1] and threads[1]:get("n") or 0
  local secs = summary.duration / 1e6
  local e = summary.errors
  local function ms(us) return string.format("%.3f", us / 1000.0) end
  io.write(string.format(
    "WALK ids=%d sent=%d answered=%d ok2xx=%d non2xx=%d extra=%d duration_s=%.3f ids_per_s=%.1f " ..
    "p50_ms=%s p90_ms=%s p99_ms=%s p999_ms=%s max_ms=%s statuses=%s values=%s " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    ids, total.sent, total.answered, total.ok2xx, total.non2xx, total.extra, secs, ids / secs,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency:percentile(99.9)), ms(latency.max), joined(st), joined(vals),
    e.connect, e.read, e.write, e.timeout))
end
