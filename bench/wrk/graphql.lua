-- wrk script for the benchmark ladder (bench/ladder.py): POST /graphql with a shopper's token.
--
-- BENCH_TOKENS  file with one access token per line; connections take them round-robin, so the
--               credit held by approvals is spread over many shoppers.
-- BENCH_MODE    "hello" (GET / of the yardstick app), "me" (a read) or "apply" (applyForCredit with a fresh order and idempotency key
--               on every request, as a real checkout sends).
-- BENCH_AMOUNT  the order amount in minor units (apply only).
--
-- Every response is checked: a non-200, a GraphQL error, or (apply) an outcome other than the
-- expected one counts as a failure, and done() prints one JSON line that the ladder reads.

local mode = os.getenv("BENCH_MODE") or "me"
local amount = os.getenv("BENCH_AMOUNT") or "1000"
local expect = os.getenv("BENCH_EXPECT") or "APPROVED"

local tokens = {}
if os.getenv("BENCH_TOKENS") then
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
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
  counter = 0
  failures = 0
  unexpected = 0
  math.randomseed(os.time() * 1000 + no)
  run_id = string.format("%08x", math.random(0, 0x7fffffff))
end

function request()
  counter = counter + 1
  if mode == "hello" then return wrk.format("GET", "/") end
  local token = tokens[((no - 1) * 7919 + counter) % #tokens + 1]
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = token }
  local body
  if mode == "apply" then
    local ref = string.format("b%s-%d-%d", run_id, no, counter)
    body = '{"query":"' .. APPLY .. '","variables":{"key":"' .. ref .. '-key","input":{'
      .. '"merchantId":"bench","orderReference":"' .. ref .. '",'
      .. '"amount":{"amount":' .. amount .. ',"currency":"EUR"},"planType":"PAY_IN_4"}}}'
  else
    body = ME
  end
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
  elseif mode == "apply" and not string.find(body, '"status":"' .. expect .. '"', 1, true) then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local failed, other = 0, 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    other = other + thread:get("unexpected")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"failures":%d,"unexpected":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, failed, other,
    errors.connect + errors.read + errors.write + errors.timeout + errors.status))
end
