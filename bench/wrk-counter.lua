-- wrk script: POST {"op":"increment"} to /entities/counter/<random id in 0..9999>.
--
--   wrk -t1 -c64 -d20s --latency -s bench/wrk-counter.lua http://127.0.0.1:18080
--
-- Each wrk thread gets its own random seed (time, pid-ish entropy and the thread's index), so threads do
-- not replay the same id sequence.
--
-- With WRK_COUNT_STATUS=1 in the environment the script also counts responses per HTTP status and per
-- X-Sticky-Node header, and keeps one sample body per non-2xx status; done() prints them. That needs a
-- response() callback, which makes wrk parse every response in Lua and costs throughput, so run.sh
-- uses it only for warm-up and diagnostic runs, never for the measured run.

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  table.insert(threads, thread)
end

local path_prefix = "/entities/counter/"
local headers = { ["Content-Type"] = "application/json" }
local body = '{"op":"increment"}'

function init(args)
  -- thread_index is set by setup() before init() runs in the thread's own Lua state.
  local seed = os.time() + (thread_index or 0) * 7919 + math.floor((os.clock() * 1e6) % 1e6)
  math.randomseed(seed)
  -- LuaJIT's first few values after seeding are poorly mixed: discard some.
  for _ = 1, 10 do math.random() end
end

-- With WRK_DELAY_MS=N each connection waits N ms after a response before its next request: a load below
-- saturation (about connections * 1000 / (N + latency) req/s) instead of as fast as possible.
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function request()
  return wrk.format("POST", path_prefix .. math.random(0, 9999), headers, body)
end

if os.getenv("WRK_COUNT_STATUS") == "1" then
  status_counts = {}
  node_counts = {}
  samples = {}

  function response(status, hdrs, resp_body)
    local s = tostring(status)
    status_counts[s] = (status_counts[s] or 0) + 1
    local node = hdrs["X-Sticky-Node"] or hdrs["x-sticky-node"] or "-"
    node_counts[node] = (node_counts[node] or 0) + 1
    if (status < 200 or status > 299) and samples[s] == nil then
      samples[s] = string.sub(resp_body or "", 1, 400)
    end
  end

  function done(summary, latency, requests)
    local statuses, nodes, bodies = {}, {}, {}
    for _, t in ipairs(threads) do
      for k, v in pairs(t:get("status_counts") or {}) do statuses[k] = (statuses[k] or 0) + v end
      for k, v in pairs(t:get("node_counts") or {}) do nodes[k] = (nodes[k] or 0) + v end
      for k, v in pairs(t:get("samples") or {}) do bodies[k] = bodies[k] or v end
    end
    for k, v in pairs(statuses) do io.write(string.format("STATUS %s %d\n", k, v)) end
    for k, v in pairs(nodes) do io.write(string.format("NODE %s %d\n", k, v)) end
    for k, v in pairs(bodies) do io.write(string.format("SAMPLE %s %s\n", k, (string.gsub(v, "\n", " ")))) end
  end
end
