-- wrk script for the saturation runs (loadtest/wrkrun.py). Environment:
--   WRK_MODE  get (the URL as given), read (GET /api/v1/items/<random id in 1..WRK_IDS>),
--             write (POST /api/v1/items with a unique name, bearer WRK_TOKEN)
-- done() prints one JSON line the runner parses, so no text scraping of wrk's report.
local mode = os.getenv("WRK_MODE") or "get"
local ids = tonumber(os.getenv("WRK_IDS") or "1")
local token = os.getenv("WRK_TOKEN") or ""
local run = os.getenv("WRK_RUN") or "wrk"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (id or 0))
end

function request()
  if mode == "read" then
    return wrk.format("GET", "/api/v1/items/" .. math.random(1, ids))
  elseif mode == "write" then
    counter = counter + 1
    local body = string.format(
      '{"name":"%s-%d-%d","price":"12.50","tags":["wrk"]}', run, id or 0, counter)
    return wrk.format("POST", "/api/v1/items", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
    }, body)
  end
  return wrk.format(nil)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_ms":{"p50":%.3f,"p95":%.3f,"p99":%.3f,"max":%.3f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
