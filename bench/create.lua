-- wrk script: one fixed request, its method, path, header and body from the environment, so that
-- bench/run.sh can send the same create to the orchestrator and to the simulator directly.
--   BENCH_METHOD  (default POST)
--   BENCH_PATH    e.g. /conversations or /tavus-sim/v2/conversations
--   BENCH_HEADER  one "Name: value" header (the API key)
--   BENCH_BODY    the JSON body
-- The request is built once per thread (no request() function), so wrk spends little CPU on it.

wrk.method = os.getenv("BENCH_METHOD") or "POST"
wrk.path = os.getenv("BENCH_PATH") or "/"
wrk.body = os.getenv("BENCH_BODY") or ""
wrk.headers["Content-Type"] = "application/json"

local header = os.getenv("BENCH_HEADER")
if header then
   local name, value = string.match(header, "^%s*([^:]+):%s*(.*)$")
   if name then
      wrk.headers[name] = value
   end
end
