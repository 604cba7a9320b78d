-- wrk script: POSTs distinct, valid Tavus callbacks (conversation.utterance) to /webhook?token=TOKEN.
--
-- Environment (read in each thread's init; bench/run.sh sets them):
--   BENCH_TOKEN       the callback token of the conversation (from its callback_url)
--   BENCH_CONV_ID     the conversation's Tavus id (conversation_id in the body)
--   BENCH_SEQ_OFFSET  where this run's seq numbers start; run.sh gives every run its own range
--
-- seq = BENCH_SEQ_OFFSET + thread_index * 1e9 + n, so it is unique across wrk's threads, and
-- across runs when each run gets an offset at least (threads * 1e9) above the previous one.
-- A repeated seq would be answered "duplicate" and not stored: the benchmark would measure less work.
-- Numbers stay below 2^53, where Lua's doubles are exact.

local thread_count = 0

function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
end

-- Plausible user utterances, about 600 bytes each; plain ASCII with no quote or backslash, so
-- they go into the JSON as they are. Several, so that bodies are not all identical.
local sentences = {
   "Thanks for taking the time today. I wanted to walk through the onboarding flow we discussed last week, ",
   "because a few people on my team got stuck at the step where they connect their calendar account. ",
   "It looks like the permissions screen asks for more access than we expected, and some of them gave up. ",
   "Could you explain what the integration actually needs, and whether there is a read-only option? ",
   "We also noticed that the reminder emails arrive in the wrong time zone for the office in Lisbon, ",
   "which is one hour off during the summer months, so meetings show up at the wrong time for them. ",
   "Finally, is there a way to export last quarter's usage report as a spreadsheet for our finance team? ",
   "They need it before the budget review on Thursday, and the dashboard only lets me download a PDF. ",
}

local contents = {}

local function build_contents()
   for k = 1, #sentences do
      local text = ""
      local i = k
      while #text < 600 do
         text = text .. sentences[(i - 1) % #sentences + 1]
         i = i + 1
      end
      contents[k] = string.sub(text, 1, 600)
   end
end

local path, conversation_id, seq_base, base_time
local n = 0

function init(args)
   local token = os.getenv("BENCH_TOKEN") or "none"
   conversation_id = os.getenv("BENCH_CONV_ID") or "cbench"
   local offset = tonumber(os.getenv("BENCH_SEQ_OFFSET") or "0")
   seq_base = offset + (thread_index or 0) * 1e9
   base_time = os.time()
   path = "/webhook?token=" .. token
   build_contents()
end

local headers = { ["Content-Type"] = "application/json" }

function request()
   n = n + 1
   local body = string.format(
      '{"message_type":"conversation","event_type":"conversation.utterance","seq":%.0f,"turn_idx":%d,' ..
      '"conversation_id":"%s","timestamp":%.3f,"properties":{"role":"user","content":"%s"}}',
      seq_base + n, n, conversation_id, base_time + n / 1000, contents[n % #contents + 1])
   return wrk.format("POST", path, headers, body)
end
