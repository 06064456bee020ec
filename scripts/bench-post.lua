-- wrk script of scripts/bench-all.sh: POST the AdmissionReview named by BODY_FILE to WRK_PATH
-- (default /validate), stop each wrk thread after MAX_REQUESTS answers (default 2,000,000),
-- and print one JSON line (requests/s, latency percentiles in ms, errors).
local f = assert(io.open(os.getenv("BODY_FILE") or "admission.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.path = os.getenv("WRK_PATH") or "/validate"

local max_requests = tonumber(os.getenv("MAX_REQUESTS") or "2000000")
local answered = 0

function response(status, headers, body)
  answered = answered + 1
  if answered >= max_requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"seconds":%.2f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"errors":%d,"non2xx":%d}\n',
    summary.requests, s, summary.requests / s,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
