-- wrk script for the benchmark ladder (bench/ladder.py): POST /graphql with a shopper's token.
--
-- BENCH_TOKENS    file with one access token per line; connections take them round-robin, so the
--                 credit held by approvals is spread over many shoppers.
-- BENCH_MODE      "hello" (GET / of the yardstick app), "me" (a read) or "apply" (applyForCredit
--                 for a checkout session a merchant's server created, as a real checkout sends).
-- BENCH_SESSIONS  (apply) file with one checkout token per line, created by the merchant API
--                 before the run: a session is used once, so each is sent once (thread n of
--                 BENCH_THREADS takes lines n, n + BENCH_THREADS, ...). A thread that has used
--                 its share sends the read instead and counts it as "exhausted": the ladder
--                 refuses such a rung rather than report reads as decisions.
--
-- Every response is checked: a non-200 or a GraphQL error is a failure; (apply) each decision's
-- outcome is counted (APPROVED, DECLINED, REFERRED; anything else is a failure), and done()
-- prints one JSON line that the ladder reads.

local mode = os.getenv("BENCH_MODE") or "me"
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")

local function lines(path)
  local out = {}
  if path then
    for line in io.lines(path) do
      if #line > 0 then out[#out + 1] = line end
    end
  end
  return out
end

local ME = '{"query":"query { me { id phoneVerified availableCredit { amount currency } } }"}'
local APPLY = 'mutation A($input: CreditApplicationInput!, $key: String!) { '
  .. 'applyForCredit(input: $input, idempotencyKey: $key) { id status riskGrade } }'

local threads = {}
local thread_no = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("no", thread_no)
  threads[#threads + 1] = thread
end

function init(args)
  tokens = lines(os.getenv("BENCH_TOKENS"))
  sessions = mode == "apply" and lines(os.getenv("BENCH_SESSIONS")) or {}
  counter = 0
  sent = 0
  failures = 0
  exhausted = 0
  approved = 0
  declined = 0
  referred = 0
  math.randomseed(os.time() * 1000 + no)
  run_id = string.format("%08x", math.random(0, 0x7fffffff))
end

function request()
  counter = counter + 1
  if mode == "hello" then return wrk.format("GET", "/") end
  local token = tokens[((no - 1) * 7919 + counter) % #tokens + 1]
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = token }
  local body = ME
  if mode == "apply" then
    local session = sessions[no + sent * nthreads]
    if session then
      sent = sent + 1
      local key = string.format("b%s-%d-%d", run_id, no, counter)
      body = '{"query":"' .. APPLY .. '","variables":{"key":"' .. key .. '","input":{'
        .. '"checkoutToken":"' .. session .. '","planType":"PAY_IN_4"}}}'
    end
  end
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
  elseif mode == "apply" then
    if string.find(body, '"applyForCredit"', 1, true) == nil then
      exhausted = exhausted + 1
    elseif string.find(body, '"status":"APPROVED"', 1, true) then
      approved = approved + 1
    elseif string.find(body, '"status":"DECLINED"', 1, true) then
      declined = declined + 1
    elseif string.find(body, '"status":"REFERRED"', 1, true) then
      referred = referred + 1
    else
      failures = failures + 1
    end
  end
end

function done(summary, latency, requests)
  local sums = { failures = 0, exhausted = 0, approved = 0, declined = 0, referred = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(sums) do
      sums[name] = sums[name] + thread:get(name)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"failures":%d,"exhausted":%d,"socket_errors":%d,'
      .. '"outcomes":{"APPROVED":%d,"DECLINED":%d,"REFERRED":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, sums.failures, sums.exhausted,
    errors.connect + errors.read + errors.write + errors.timeout + errors.status,
    sums.approved, sums.declined, sums.referred))
end
