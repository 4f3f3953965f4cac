-- wrk script for POST /api/levels/complete (and the baseline's POST /api/v1/completions),
-- driven by bench/bench.py and usable on its own:
--
--   CQ_CREDENTIALS=tokens.txt CQ_RUN=7 wrk -t1 -c8 -d10s -s bench/write_load.lua http://127.0.0.1:8000
--
-- Environment (only CQ_CREDENTIALS is required):
--   CQ_CREDENTIALS  file with one credential per line; player u is line u+1
--   CQ_AUTH         "bearer" (default): Authorization: Bearer <line>
--                   "cookie": Cookie: <line> (name=value), plus what a browser sends with a fetch()
--                   from one of the site's pages: Origin, Sec-Fetch-Site/-Mode/-Dest
--   CQ_ORIGIN       the Origin of those pages (cookie mode); default the URL wrk is given
--   CQ_USER_AGENT   User-Agent of every request (a signed-in session is bound to it)
--   CQ_TARGET       "product" (default): the full completion body
--                   "baseline": path /api/v1/completions, body {"level_id": N, "xp": 10}
--   CQ_RUN          run id (0 .. 2^31-1) put in every client_event_id; default 1
--   CQ_WRAP         when > 0, the sequence number is taken modulo CQ_WRAP: a replay run sends
--                   again the bodies 0 .. CQ_WRAP-1 of the run CQ_RUN
--   CQ_LEVELS       number of levels to rotate through; default 5 (levels 1..5)
--
-- Request number n (a pure function of CQ_RUN and n, so a replay is byte-identical):
--   player = n % #credentials, level = 1 + (n // #credentials) % CQ_LEVELS,
--   client_event_id = string.format("%08x-0000-4000-8000-%012x", run, n),
--   score = (37 n) % 1001, time_spent = 60 + (13 n) % 3000, difficulty and hints_used by n % 3.
-- Each (player, level) pair comes once before any repeats, and a player once per
-- #credentials requests.
--
-- done() prints one line:
--   CQRESULT requests=.. duration_s=.. rps=.. p50_ms=.. p95_ms=.. p99_ms=.. max_ms=..
--            non2xx=.. replayed=.. fresh=.. set_cookie=.. errors=.. timeouts=..
-- replayed = answers with "Idempotent-Replayed: true", fresh = answers whose body says
-- "is_new_completion": true, set_cookie = answers carrying Set-Cookie; and, when an answer
-- was not 2xx, CQFIRSTBAD <status> <first 200 bytes of its body>.
-- Run with -t1: the sequence numbers are counted by one thread.

local DIFFICULTIES = { "easy", "normal", "hard" }
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local function read_lines(path)
  local t = {}
  for line in io.lines(path) do
    line = line:gsub("%s+$", "")
    if #line > 0 then t[#t + 1] = line end
  end
  return t
end

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

function init(args)
  local file = env("CQ_CREDENTIALS", nil)
  assert(file, "CQ_CREDENTIALS (a file of credentials, one a line) is required")
  credentials = read_lines(file)
  assert(#credentials > 0, "no credentials in " .. file)
  mode = env("CQ_AUTH", "bearer")
  assert(mode == "bearer" or mode == "cookie", "CQ_AUTH must be bearer or cookie")
  target = env("CQ_TARGET", "product")
  path = (target == "baseline") and "/api/v1/completions" or "/api/levels/complete"
  run = tonumber(env("CQ_RUN", "1"))
  wrap = tonumber(env("CQ_WRAP", "0"))
  nlevels = tonumber(env("CQ_LEVELS", "5"))
  local url = wrk.scheme .. "://" .. wrk.host .. ":" .. wrk.port
  base_headers = {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = env("CQ_USER_AGENT", "cyberquest-bench"),
  }
  if mode == "cookie" then
    base_headers["Origin"] = env("CQ_ORIGIN", url)
    base_headers["Sec-Fetch-Site"] = "same-origin"
    base_headers["Sec-Fetch-Mode"] = "cors"
    base_headers["Sec-Fetch-Dest"] = "empty"
  end
  counter = 0
  -- wrk calls request() once right after init() only to inspect a request: that call must
  -- not use up sequence number 0, or a replay would send it as a new completion.
  inspecting = (tid == 0)
  non2xx, replayed, fresh, set_cookie, first_bad = 0, 0, 0, 0, ""
end

local function body_for(n)
  local level = 1 + math.floor(n / #credentials) % nlevels
  if target == "baseline" then
    return string.format('{"level_id":%d,"xp":10}', level)
  end
  return string.format(
    '{"level_id":%d,"score":%d,"time_spent":%d,"difficulty":"%s",' ..
    '"metadata":{"hints_used":%d},"client_event_id":"%08x-0000-4000-8000-%012x"}',
    level, (n * 37) % 1001, 60 + (n * 13) % 3000, DIFFICULTIES[n % 3 + 1], n % 3, run, n)
end

function request()
  local n = counter
  if inspecting then inspecting = false else counter = counter + 1 end
  if wrap > 0 then n = n % wrap end
  local credential = credentials[n % #credentials + 1]
  if mode == "cookie" then
    base_headers["Cookie"] = credential
  else
    base_headers["Authorization"] = "Bearer " .. credential
  end
  return wrk.format("POST", path, base_headers, body_for(n))
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. (body or ""):sub(1, 200):gsub("[\r\n]", " ")
    end
  end
  if (headers["Idempotent-Replayed"] or headers["idempotent-replayed"]) == "true" then
    replayed = replayed + 1
  end
  if headers["Set-Cookie"] or headers["set-cookie"] then set_cookie = set_cookie + 1 end
  if body and body:find('"is_new_completion":%s*true') then fresh = fresh + 1 end
end

local function total(name)
  local sum = 0
  for _, t in ipairs(threads) do sum = sum + (t:get(name) or 0) end
  return sum
end

function done(summary, latency, requests)
  local first = ""
  for _, t in ipairs(threads) do
    if first == "" then first = t:get("first_bad") or "" end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "CQRESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f " ..
    "max_ms=%.2f non2xx=%d replayed=%d fresh=%d set_cookie=%d errors=%d timeouts=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, total("non2xx"), total("replayed"),
    total("fresh"), total("set_cookie"),
    e.connect + e.read + e.write + e.timeout, e.timeout))
  if first ~= "" then io.write("CQFIRSTBAD " .. first .. "\n") end
end
