-- Shared by every case script: counts checked responses and mismatches per thread, and prints
-- one machine-readable RESULT line (latencies in microseconds) that loadtest/run.sh parses.
checked = 0
mismatches = 0

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Records one checked response; ok=false counts a mismatch.
function check(ok)
  checked = checked + 1
  if not ok then
    mismatches = mismatches + 1
  end
end

function done(summary, latency, requests)
  local c, m = 0, 0
  for _, t in ipairs(threads) do
    c = c + (t:get("checked") or 0)
    m = m + (t:get("mismatches") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50=%d p90=%d p99=%d p999=%d max=%d checked=%d mismatches=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, c, m))
end
