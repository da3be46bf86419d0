-- wrk script: requests from a targets file, round-robin, each with its own method, path, token and body.
-- The file (BENCH_TARGETS) has one request a line: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY (token, body may be empty).
-- Thread i of n sends targets i, i+n, i+2n, ... so concurrent requests rarely share a conversation.
-- done() prints one line, "BENCH_JSON {...}", with the counts and latency percentiles (microseconds).

local threads = {}
local counter = 0
local targets = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("BENCH_TARGETS")
  for line in io.lines(path) do
    local method, target, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
    table.insert(targets, wrk.format(method, target, headers, body))
  end
  stride = tonumber(args[1] or "1")
  counter = thread_index
end

function request()
  local req = targets[(counter % #targets) + 1]
  counter = counter + stride
  return req
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
