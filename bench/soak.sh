#!/usr/bin/env bash
# Soak: does the orchestrator's memory stay flat under a steady stream of conversations that come
# and go? It starts the orchestrator in simulator mode (Release build, a fresh SQLite database in a
# temp folder, the built-in simulator at Simulator__TimeScale=60), creates conversations through
# POST /conversations at a steady rate, each ending on its own about a second later
# (max_call_duration 60 simulated seconds; on the way the simulator sends replica_joined, shutdown
# and a ~10 KB transcription_ready to /webhook), and samples the process's VmRSS every 5 s.
#
# Usage: bench/soak.sh            (from any directory)
# Environment:
#   SOAK_MINUTES          minutes of load (default 3)
#   SOAK_RATE             creates per second (default 100)
#   SOAK_THREADS          loader threads, each with a keep-alive connection (default 32: enough that
#                         a create taking up to 320 ms does not hold the next one back at 100/s)
#   SOAK_TIME_SCALE       Simulator:TimeScale (default 60); every call lasts 1 s of real time
#   SOAK_RETAIN_SECONDS   Simulator:RetainEndedSeconds in simulated seconds (default 60: one real
#                         second at time scale 60, so that the soak measures what the process keeps
#                         per conversation, not the simulator's retention window filling up; the
#                         simulator's own default is 3600, one real minute at 60, and with it the
#                         process settles higher and later: README, Performance);
#                         2147483647 keeps every conversation, as the simulator did before the setting
#   SOAK_WARMUP_SECONDS   load before the warm-up figure; the slope is fitted to the samples after
#                         it (default: the retention in real seconds + 30 s, at least 60 s: the JIT,
#                         pools and caches settle, and until the retention has passed the simulator
#                         only adds ended conversations; at most half the soak)
#   SOAK_PORT             where the orchestrator listens (default 5186, apart from bench/run.sh's)
#   BENCH_REF             a git revision to build instead of the working tree (as in bench/run.sh),
#                         e.g. a5b0262, from before the simulator forgot anything
#
# Output: bench/results/soak-<time>/ (rss.csv, the loader's counts, the orchestrator's log, the
# summary) and the summary again in bench/results/soak-latest.txt. The orchestrator is stopped on
# exit, also on failure.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
OUT=$BENCH_DIR/out/soak
RESULTS=$BENCH_DIR/results

SOAK_MINUTES=${SOAK_MINUTES:-3}
SOAK_RATE=${SOAK_RATE:-100}
SOAK_THREADS=${SOAK_THREADS:-32}
SOAK_TIME_SCALE=${SOAK_TIME_SCALE:-60}
SOAK_RETAIN_SECONDS=${SOAK_RETAIN_SECONDS:-60}
SOAK_PORT=${SOAK_PORT:-5186}
SAMPLE_SECONDS=5

ORCH_URL=http://127.0.0.1:$SOAK_PORT
ADMIN_KEY=soak-admin
SIM_KEY=sim-key
SOAK_SECONDS=$((SOAK_MINUTES * 60))
# The simulator's clock runs SOAK_TIME_SCALE times faster: a call of that many simulated seconds lasts one real second.
CALL_SECONDS=$(python3 -c "print(min(3600, max(1, round($SOAK_TIME_SCALE))))")
RETAIN_REAL_SECONDS=$(python3 -c "print(round($SOAK_RETAIN_SECONDS / $SOAK_TIME_SCALE, 1))")
SOAK_WARMUP_SECONDS=${SOAK_WARMUP_SECONDS:-$(python3 -c "print(int(min(max(60, $RETAIN_REAL_SECONDS + 30), $SOAK_SECONDS / 2)))")}

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

RUN_DIR=$RESULTS/soak-$(date -u +%Y%m%dT%H%M%SZ)
TMP_DIR=$(mktemp -d -t tavus-soak.XXXXXX)
RSS_CSV=$RUN_DIR/rss.csv
FACTS=$RUN_DIR/facts.env

ORCH_PID=""
SAMPLER_PID=""

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
fact() { printf '%s=%s\n' "$1" "${2//$'\n'/ }" >>"$FACTS"; }

# --- cleanup ----------------------------------------------------------------------------------

# Stops only what this script started, by pid (SIGTERM, SIGKILL after 15 s).
stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    log "pid $pid did not stop on SIGTERM; killing it"
    kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_pid "$SAMPLER_PID"
    stop_pid "$ORCH_PID"
    rm -rf "$TMP_DIR"
    if [[ $status -ne 0 ]]; then
        log "failed (exit $status); logs in $RUN_DIR"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools ------------------------------------------------------------------------------------

apt_install() {
    log "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

ensure_tools() {
    command -v sqlite3 >/dev/null || apt_install sqlite3
    command -v curl >/dev/null || apt_install curl
    command -v python3 >/dev/null || die "python3 is needed for the loader and the summary"
    command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is needed"
}

ensure_port_free() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        die "127.0.0.1:$1 is already in use; stop whatever listens there first, or set SOAK_PORT"
    fi
}

# --- build and start --------------------------------------------------------------------------

publish() {
    local project=$REPO/src/Tavus.Orchestrator
    if [[ -n ${BENCH_REF:-} ]]; then
        log "taking the orchestrator's source from git revision $BENCH_REF"
        mkdir -p "$TMP_DIR/source"
        git -C "$REPO" archive "$BENCH_REF" | tar -x -C "$TMP_DIR/source"
        project=$TMP_DIR/source/src/Tavus.Orchestrator
    fi
    log "publishing the orchestrator (Release) to $OUT"
    rm -rf "$OUT"
    dotnet publish "$project" -c Release -o "$OUT" --nologo -v q >"$RUN_DIR/publish.log" 2>&1 \
        || { cat "$RUN_DIR/publish.log" >&2; die "publishing the orchestrator failed"; }
}

wait_for_200() {
    local url=$1 pid=$2
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || die "the orchestrator exited during start-up"
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$url" || true) == 200 ]]; then
            return 0
        fi
        sleep 0.5
    done
    die "the orchestrator did not answer 200 at $url within 60 s"
}

# As deployed, with its default logging, but with the simulator's concurrency limit out of the
# way: about SOAK_RATE conversations are live at any moment, and a refused create measures nothing.
start_orchestrator() {
    log "starting the orchestrator on $ORCH_URL (simulator at time scale $SOAK_TIME_SCALE, retention $SOAK_RETAIN_SECONDS simulated s)"
    (
        cd "$OUT"
        export Urls=$ORCH_URL \
            Webhooks__PublicBaseUrl=$ORCH_URL \
            Database__Provider=Sqlite \
            ConnectionStrings__Orchestrator="Data Source=$TMP_DIR/orchestrator.db" \
            Admin__ApiKey=$ADMIN_KEY \
            Tavus__ApiKey= \
            Simulator__TimeScale="$SOAK_TIME_SCALE" \
            Simulator__MaxConcurrentConversations=1000000 \
            RateLimits__RequestsPerSecond=1000000 \
            Simulator__RetainEndedSeconds="$SOAK_RETAIN_SECONDS"
        exec dotnet Tavus.Orchestrator.dll
    ) >"$RUN_DIR/orchestrator.log" 2>&1 &
    ORCH_PID=$!
    wait_for_200 "$ORCH_URL/health/ready" "$ORCH_PID"
}

# A tenant of its own whose concurrency cap is far above what the soak keeps live.
create_tenant() {
    local response status
    response=$(curl -sS -X POST "$ORCH_URL/admin/tenants" -H "X-Admin-Key: $ADMIN_KEY" -H 'Content-Type: application/json' \
        --data '{"id":"soak","name":"Soak","policy":{"max_concurrent_conversations":100000}}' -w '\n%{http_code}')
    status=${response##*$'\n'}
    [[ $status == 2?? ]] || die "creating the tenant answered $status: ${response%$'\n'*}"
    TENANT_KEY=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["api_key"])' "${response%$'\n'*}")
}

# --- measuring --------------------------------------------------------------------------------

# Every SAMPLE_SECONDS from the start of the load (on a fixed schedule, whatever a sample takes):
# seconds, VmRSS in kB, and how many conversations the simulator holds (its list's total_count).
sample() {
    local started=$1 next=$1 now rss held
    echo "seconds,rss_kb,simulator_conversations" >"$RSS_CSV"
    while kill -0 "$ORCH_PID" 2>/dev/null; do
        now=$(date +%s)
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$ORCH_PID/status" 2>/dev/null || true)
        held=$(curl -s --max-time 4 "$ORCH_URL/tavus-sim/v2/conversations?limit=1" -H "x-api-key: $SIM_KEY" \
            | grep -oE '"total_count": *[0-9]+' | grep -oE '[0-9]+$' || true)
        echo "$((now - started)),$rss,$held" >>"$RSS_CSV"
        next=$((next + SAMPLE_SECONDS))
        now=$(date +%s)
        ((now >= next)) || sleep $((next - now))
    done
}

proc_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }

soak() {
    local body
    body="{\"persona_id\":\"psoak\",\"properties\":{\"max_call_duration\":$CALL_SECONDS}}"
    fact body "$body"
    sample "$(date +%s)" &
    SAMPLER_PID=$!
    log "creating ~$SOAK_RATE conversations/s for $SOAK_MINUTES min ($SOAK_THREADS threads); RSS every ${SAMPLE_SECONDS}s in $RSS_CSV"
    python3 "$BENCH_DIR/steady_create.py" "$ORCH_URL" /conversations "X-Api-Key: $TENANT_KEY" "$body" \
        "$SOAK_RATE" "$SOAK_SECONDS" "$SOAK_THREADS" "$RUN_DIR/load.json"
    # One more sample, once the last calls have ended and their callbacks are in.
    sleep "$SAMPLE_SECONDS"
    stop_pid "$SAMPLER_PID"
    SAMPLER_PID=""
    fact hwm_end_kb "$(proc_kb "$ORCH_PID" VmHWM)"
    fact rss_end_kb "$(proc_kb "$ORCH_PID" VmRSS)"
}

gather_facts() {
    fact conversations_by_status "$(sqlite3 "$TMP_DIR/orchestrator.db" 'SELECT "Status", COUNT(*) FROM "Conversations" GROUP BY "Status";' | tr '\n' ' ')"
    fact events "$(sqlite3 "$TMP_DIR/orchestrator.db" 'SELECT COUNT(*) FROM "ConversationEvents";')"
    fact db_mb "$(du -sm "$TMP_DIR" | cut -f1)"
    fact log_warnings "$(grep -cE '^\[[0-9:]+ WRN\]' "$RUN_DIR/orchestrator.log" || true)"
    fact log_errors "$(grep -cE '^\[[0-9:]+ (ERR|FTL)\]' "$RUN_DIR/orchestrator.log" || true)"
    fact load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
    gzip -f "$RUN_DIR/orchestrator.log"
}

# --- summary ----------------------------------------------------------------------------------

summarize() {
    fact date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    fact nproc "$(nproc)"
    fact cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    fact minutes "$SOAK_MINUTES"
    fact rate "$SOAK_RATE"
    fact time_scale "$SOAK_TIME_SCALE"
    fact retain "$SOAK_RETAIN_SECONDS"
    fact retain_real "$RETAIN_REAL_SECONDS"
    fact warmup "$SOAK_WARMUP_SECONDS"
    if [[ -n ${BENCH_REF:-} ]]; then
        fact git "$(git -C "$REPO" rev-parse --short "$BENCH_REF") ($BENCH_REF)"
    else
        fact git "$(git -C "$REPO" rev-parse --short HEAD)$([[ -z $(git -C "$REPO" status --porcelain -- src) ]] || echo ' + uncommitted changes in src/')"
    fi
    python3 - "$RSS_CSV" "$RUN_DIR/load.json" "$FACTS" <<'PY' | tee "$RUN_DIR/summary.txt"
import csv, json, sys
samples = [(int(r["seconds"]), int(r["rss_kb"]) / 1024, r["simulator_conversations"]) for r in csv.DictReader(open(sys.argv[1])) if r["rss_kb"]]
load = json.load(open(sys.argv[2]))
facts = dict(line.rstrip("\n").partition("=")[::2] for line in open(sys.argv[3]))
warmup = int(facts["warmup"])

def at(second):
    return min(samples, key=lambda s: abs(s[0] - second))

after = [s for s in samples if s[0] >= warmup]
def slope(points):
    # Least squares, MB per minute: one late GC does not make or break it the way two end points would.
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    return 60 * sum((p[0] - mx) * (p[1] - my) for p in points) / sxx if sxx else float("nan")

first, warm, last = samples[0], at(warmup), samples[-1]
peak = max(samples, key=lambda s: s[1])
out = []
out.append("Tavus Orchestrator soak, %s" % facts["date"])
out.append("machine: %s cores, %s; code %s" % (facts["nproc"], facts["cpu"], facts["git"]))
out.append("load average (1/5/15 min) at the start: %s, at the end: %s (other work on the machine shares the 2 cores)" % (facts["load_before"], facts["load_after"]))
out.append("load: POST /conversations %s, %s min at ~%s/s; simulator time scale %s, so each call ends after ~1 s of real time" % (
    facts["body"], facts["minutes"], facts["rate"], facts["time_scale"]))
out.append("simulator retention (Simulator:RetainEndedSeconds): %s simulated s = %s s of real time (a build from before the setting ignores it and keeps all)" % (
    facts["retain"], facts["retain_real"]))
out.append("warm-up %d s: the slope is fitted to the samples after it" % warmup)
out.append("")
out.append("creates: %d attempted, %d succeeded (%.1f/s achieved); statuses %s; connection errors %s; latency p50 %s ms, p99 %s ms" % (
    load["attempted"], load["succeeded"], load["succeeded"] / max(load["seconds"], 1), load["statuses"], load["errors"] or "none",
    load["latency_ms"]["p50"], load["latency_ms"]["p99"]))
out.append("conversations in the database by status: %s; events stored: %s; database folder %s MB" % (
    facts["conversations_by_status"].strip(), facts["events"], facts["db_mb"]))
out.append("")
out.append("RSS (VmRSS, every 5 s)         MB    conversations the simulator holds")
out.append("  start of the load  (%4d s) %6.0f    %s" % (first[0], first[1], first[2]))
out.append("  end of warm-up     (%4d s) %6.0f    %s" % (warm[0], warm[1], warm[2]))
out.append("  end                (%4d s) %6.0f    %s" % (last[0], last[1], last[2]))
out.append("  max                (%4d s) %6.0f    (VmHWM, the kernel's peak: %.0f MB)" % (peak[0], peak[1], int(facts["hwm_end_kb"]) / 1024))
out.append("slope after warm-up: %+.1f MB/min (least squares over %d samples); end - warm-up: %+.0f MB" % (
    slope(after), len(after), last[1] - warm[1]))
out.append("orchestrator log (orchestrator.log.gz): %s warning lines, %s error lines" % (facts["log_warnings"], facts["log_errors"]))
out.append("")
out.append("curve (s: MB / held): " + "  ".join("%d: %.0f/%s" % s for s in samples[::2]))
print("\n".join(out))
PY
    cp "$RUN_DIR/summary.txt" "$RESULTS/soak-latest.txt"
    log "summary written to $RESULTS/soak-latest.txt; raw outputs in $RUN_DIR"
}

# --- main -------------------------------------------------------------------------------------

main() {
    mkdir -p "$RUN_DIR"
    : >"$FACTS"
    fact load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
    ensure_tools
    ensure_port_free "$SOAK_PORT"
    publish
    start_orchestrator
    create_tenant
    soak
    gather_facts
    summarize
}

main "$@"
