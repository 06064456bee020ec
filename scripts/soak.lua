-- wrk script for scripts/soak.sh: POSTs a mix of AdmissionReviews to /validate and checks
-- every answer against the kind of body that was sent.
--
-- SOAK_PLAN names a file of lines "<expect> <body file>", where expect is allow, warn, deny
-- (HTTP 200 with that decision) or bad (HTTP 400). The plan is sent in order, round and
-- round, by every connection of every thread. SOAK_MAX_REQUESTS bounds the requests per wrk
-- thread; wrk's -d bounds the time.
--
-- A connection sends its next request only after the answer to the previous one (wrk does
-- not pipeline), but a thread's connections interleave, so answers are checked by class:
-- each answer must be one of the four expected shapes, and at the end the count of answers
-- of each class must equal the count of requests of that class sent, give or take the
-- requests still in flight when wrk stopped (at most one per connection).

local classes = { "allow", "warn", "deny", "bad" }

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local plan = {}
local plan_file = os.getenv("SOAK_PLAN")
assert(plan_file, "SOAK_PLAN is not set")
for line in io.lines(plan_file) do
  local expect, file = line:match("^(%a+)%s+(.+)$")
  if expect then
    plan[#plan + 1] = { expect = expect, body = read(file) }
  end
end
assert(#plan > 0, "the plan is empty")

local max_requests = tonumber(os.getenv("SOAK_MAX_REQUESTS") or "0")
local path = os.getenv("WRK_PATH") or "/validate"
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  requests = {}
  for i, p in ipairs(plan) do
    requests[i] = wrk.format("POST", path, { ["Content-Type"] = "application/json" }, p.body)
  end
  -- Threads start at different places in the plan, so that the classes mix from the start.
  next_index = (id * 7) % #plan
  sent_allow, sent_warn, sent_deny, sent_bad = 0, 0, 0, 0
  got_allow, got_warn, got_deny, got_bad = 0, 0, 0, 0
  got_5xx, got_unexpected, answered = 0, 0, 0
  first_unexpected = ""
end

function request()
  next_index = next_index % #plan + 1
  local p = plan[next_index]
  if p.expect == "allow" then
    sent_allow = sent_allow + 1
  elseif p.expect == "warn" then
    sent_warn = sent_warn + 1
  elseif p.expect == "deny" then
    sent_deny = sent_deny + 1
  else
    sent_bad = sent_bad + 1
  end
  return requests[next_index]
end

local function classify(status, body)
  if status == 400 then
    return "bad"
  end
  if status ~= 200 then
    return nil
  end
  if body:find('"allowed":false', 1, true) then
    return "deny"
  end
  if not body:find('"allowed":true', 1, true) then
    return nil
  end
  if body:find('"warnings":', 1, true) then
    return "warn"
  end
  return "allow"
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 500 then
    got_5xx = got_5xx + 1
  end
  local c = classify(status, body)
  if c == "allow" then
    got_allow = got_allow + 1
  elseif c == "warn" then
    got_warn = got_warn + 1
  elseif c == "deny" then
    got_deny = got_deny + 1
  elseif c == "bad" then
    got_bad = got_bad + 1
  else
    got_unexpected = got_unexpected + 1
    if first_unexpected == "" then
      first_unexpected = status .. " " .. body:sub(1, 200)
    end
  end
  if max_requests > 0 and answered >= max_requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests_)
  local sent, got = {}, {}
  for _, c in ipairs(classes) do
    sent[c], got[c] = 0, 0
  end
  local five, unexpected, first = 0, 0, ""
  for _, t in ipairs(threads) do
    for _, c in ipairs(classes) do
      sent[c] = sent[c] + t:get("sent_" .. c)
      got[c] = got[c] + t:get("got_" .. c)
    end
    five = five + t:get("got_5xx")
    unexpected = unexpected + t:get("got_unexpected")
    if first == "" then
      first = t:get("first_unexpected")
    end
  end
  local e = summary.errors
  local s = summary.duration / 1e6
  local parts = {}
  for _, c in ipairs(classes) do
    parts[#parts + 1] = string.format('"sent_%s":%d,"got_%s":%d', c, sent[c], c, got[c])
  end
  io.write(string.format(
    'SOAKJSON {"requests":%d,"seconds":%.2f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,' ..
    '"socket_errors":%d,"timeouts":%d,"non2xx_3xx":%d,"status_5xx":%d,"unexpected":%d,%s,"first_unexpected":"%s"}\n',
    summary.requests, s, summary.requests / s,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, e.connect + e.read + e.write, e.timeout, e.status, five, unexpected,
    table.concat(parts, ","), (first:gsub('[%c"\\]', " "))))
end
