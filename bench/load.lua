-- wrk script for bench/load.py: requests the paths listed in a file (one per line,
-- already in the mix's proportions and shuffled), each connection from its own offset,
-- as a browser behind the site's TLS proxy would. Prints one JSON line at the end.
local paths = {}
local counter = 0
local threads = 0

function setup(thread)  -- runs in the main state: number the threads
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  counter = (id or 0) * 7919 % #paths  -- threads start at different places in the list
  wrk.headers["X-Forwarded-Proto"] = "https"
  wrk.headers["Accept-Encoding"] = "gzip"
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "bytes": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p95_ms": %.2f,'
      .. ' "p99_ms": %.2f, "max_ms": %.2f, "mean_ms": %.2f, "errors": {"connect": %d, "read": %d,'
      .. ' "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
