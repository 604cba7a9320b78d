#!/usr/bin/env bash
# Benchmark of live event streams (GET /conversations/{id}/events, text/event-stream) on this machine:
#
#  - N streams held open (default 1,000), all on one conversation, then spread over 100;
#  - the service's CPU over 10 s while they are idle (/proc/PID/stat), and its RSS per stream (the
#    RSS growth from opening them, after a settle, divided by N);
#  - the fan-out latency of one callback to every stream watching its conversation: each round
#    posts one callback to every conversation at once, and each stream's latency runs from its
#    conversation's post to the event's arrival (p50/p99 over streams × rounds).
#
# On SQLite one instance takes the streams and the callbacks. On PostgreSQL (DB=postgres) two
# instances share the database: the streams are on B, the callbacks go to A, so every event
# reaches B's streams through LISTEN/NOTIFY. The client is bench/StreamLoad (not in the solution).
#
# Usage: bench/streams.sh            (from any directory)
# Environment:
#   STREAMS         streams held open (default 1000; try 5000)
#   SPREAD          conversations of the spread layout (default 100)
#   ROUNDS          fan-out rounds per layout (default 5)
#   DB              sqlite (default) or postgres (two instances; a fresh database per layout on
#                   BENCH_POSTGRES, default Host=127.0.0.1;Username=postgres;Password=postgres)
#   BENCH_REF       a git revision to benchmark instead of the working tree (as bench/run.sh)
#
# Output: bench/results/streams-<time>/ (the client's figures, the orchestrators' logs, the summary)
# and the summary again in bench/results/streams-latest.txt. Every server it started is stopped on
# exit, also on failure.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
OUT=$BENCH_DIR/out
RESULTS=$BENCH_DIR/results

STREAMS=${STREAMS:-1000}
SPREAD=${SPREAD:-100}
ROUNDS=${ROUNDS:-5}
DB=${DB:-sqlite}
BENCH_POSTGRES=${BENCH_POSTGRES:-Host=127.0.0.1;Username=postgres;Password=postgres}

A_URL=http://127.0.0.1:5190
B_URL=http://127.0.0.1:5192
ADMIN_KEY=bench-admin
SIM_KEY=sim-key

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

RUN_DIR=$RESULTS/streams-$(date -u +%Y%m%dT%H%M%SZ)
TMP_DIR=$(mktemp -d -t tavus-streams.XXXXXX)
A_PID=""
B_PID=""

log() { printf '[streams %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Stops only what this script started, by pid (SIGTERM, then SIGKILL after 15 s).
stop_pid() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_pid "$A_PID"
    stop_pid "$B_PID"
    rm -rf "$TMP_DIR"
    [[ $status -eq 0 ]] || log "failed (exit $status); logs in $RUN_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_tools() {
    command -v curl >/dev/null || die "curl is needed"
    command -v python3 >/dev/null || die "python3 is needed to read JSON"
    command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is needed"
    [[ $DB != postgres ]] || command -v psql >/dev/null || die "psql is needed for DB=postgres"
    (( $(ulimit -n) > STREAMS * 2 + 100 )) || ulimit -n $((STREAMS * 2 + 1000)) || die "raise the open-files limit (ulimit -n)"
}

ensure_port_free() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        die "127.0.0.1:$1 is already in use; stop whatever listens there first"
    fi
}

publish() {
    local project=$REPO/src/Tavus.Orchestrator
    if [[ -n ${BENCH_REF:-} ]]; then
        log "taking the orchestrator's source from git revision $BENCH_REF"
        mkdir -p "$TMP_DIR/source"
        git -C "$REPO" archive "$BENCH_REF" | tar -x -C "$TMP_DIR/source"
        project=$TMP_DIR/source/src/Tavus.Orchestrator
    fi
    log "publishing the orchestrator and StreamLoad (Release) to $OUT"
    rm -rf "$OUT/orchestrator-streams" "$OUT/streamload"
    dotnet publish "$project" -c Release -o "$OUT/orchestrator-streams" --nologo -v q >"$RUN_DIR/publish.log" 2>&1 \
        || { cat "$RUN_DIR/publish.log" >&2; die "publishing the orchestrator failed"; }
    dotnet publish "$BENCH_DIR/StreamLoad" -c Release -o "$OUT/streamload" --nologo -v q >>"$RUN_DIR/publish.log" 2>&1 \
        || { cat "$RUN_DIR/publish.log" >&2; die "publishing StreamLoad failed"; }
}

# pg_sql DATABASE SQL: runs SQL on the benchmark's PostgreSQL server.
pg_sql() {
    python3 - "$BENCH_POSTGRES" "$1" "$2" <<'PY'
import subprocess, sys
parts = dict(p.split("=", 1) for p in sys.argv[1].split(";") if p)
env = {"PGPASSWORD": parts.get("Password", ""), "PATH": "/usr/bin:/bin"}
cmd = ["psql", "-h", parts.get("Host", "127.0.0.1"), "-U", parts.get("Username", "postgres"), "-d", sys.argv[2], "-tAc", sys.argv[3]]
sys.exit(subprocess.run(cmd, env=env).returncode)
PY
}

# start_instance URL PROVIDER CONNECTION LOGNAME: one orchestrator (Release, default logging, the
# built-in simulator calling back A); prints its pid.
start_instance() {
    local url=$1 provider=$2 connection=$3 name=$4
    (
        cd "$OUT/orchestrator-streams"
        export Urls=$url \
            Webhooks__PublicBaseUrl=$A_URL \
            Database__Provider=$provider \
            ConnectionStrings__Orchestrator="$connection" \
            Admin__ApiKey=$ADMIN_KEY \
            Tavus__ApiKey= \
            Simulator__MaxConcurrentConversations=1000000 \
            RateLimits__RequestsPerSecond=1000000 \
            Events__MaxStreamsPerTenant=$((STREAMS * 2))
        exec dotnet Tavus.Orchestrator.dll
    ) >"$RUN_DIR/$name.log" 2>&1 &
    echo $!
}

wait_for_200() {
    local url=$1 pid=$2
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || die "the orchestrator at $url exited during start-up"
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready" || true) == 200 ]] && return 0
        sleep 0.5
    done
    die "the orchestrator at $url did not answer 200 within 60 s"
}

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

http() {
    local method=$1 url=$2 header=$3 body=${4:-} response status
    response=$(curl -sS -X "$method" "$url" -H "$header" -H 'Content-Type: application/json' ${body:+--data "$body"} -w '\n%{http_code}')
    status=${response##*$'\n'}
    response=${response%$'\n'*}
    [[ $status == 2?? ]] || die "$method $url answered $status: $response"
    printf '%s' "$response"
}

# create_one KEY: a conversation, printed as "id token" (the token of the callback URL Tavus got).
create_one() {
    local id callback
    # Timers past the benchmark's length: no conversation ends during it.
    id=$(http POST "$A_URL/conversations" "X-Api-Key: $1" \
        '{"persona_id":"pbench","properties":{"max_call_duration":3600,"participant_absent_timeout":3600}}' | json_field conversation_id)
    callback=$(http GET "$A_URL/tavus-sim/v2/conversations/$id" "x-api-key: $SIM_KEY" | json_field callback_url)
    echo "$id ${callback##*token=}"
}

# run_layout NAME CONVERSATIONS: fresh instance(s) and database, the conversations, the client.
run_layout() {
    local name=$1 conversations=$2 provider=Sqlite connection="Data Source=$TMP_DIR/$1.db" pids streams_url
    if [[ $DB == postgres ]]; then
        local database=tavus_streams_$(date -u +%Y%m%d%H%M%S)_$name
        pg_sql postgres "CREATE DATABASE $database;" >/dev/null || die "cannot create database $database"
        provider=Postgres
        connection="$BENCH_POSTGRES;Database=$database"
    fi
    log "$name: starting $([[ $DB == postgres ]] && echo "instances A ($A_URL) and B ($B_URL) on PostgreSQL" || echo "one instance on SQLite")"
    A_PID=$(start_instance "$A_URL" "$provider" "$connection" "$name-a")
    wait_for_200 "$A_URL" "$A_PID"
    pids=$A_PID
    streams_url=$A_URL
    if [[ $DB == postgres ]]; then
        B_PID=$(start_instance "$B_URL" "$provider" "$connection" "$name-b")
        wait_for_200 "$B_URL" "$B_PID"
        pids="$B_PID,$A_PID"
        streams_url=$B_URL
    fi

    log "$name: tenant 'bench' and $conversations conversation(s)"
    local key
    key=$(http POST "$A_URL/admin/tenants" "X-Admin-Key: $ADMIN_KEY" '{"id":"bench","name":"Bench"}' | json_field api_key)
    : >"$TMP_DIR/$name.conversations"
    for i in $(seq 1 "$conversations"); do
        create_one "$key" >>"$TMP_DIR/$name.conversations" &
        ((i % 10)) || wait
    done
    wait
    [[ $(wc -l <"$TMP_DIR/$name.conversations") -eq $conversations ]] || die "not every conversation was created"

    log "$name: $STREAMS streams on $streams_url, callbacks to $A_URL, $ROUNDS rounds"
    dotnet "$OUT/streamload/StreamLoad.dll" "$streams_url" "$A_URL" "$key" "$TMP_DIR/$name.conversations" "$STREAMS" "$ROUNDS" "$pids" \
        >"$RUN_DIR/$name.txt" 2>"$RUN_DIR/$name.client.log" || { cat "$RUN_DIR/$name.client.log" >&2; die "StreamLoad failed"; }
    sed "s/^/  /" "$RUN_DIR/$name.txt" >&2
    echo "warnings=$(grep -cE '^\[[0-9:]+ (WRN|ERR|FTL)\]' "$RUN_DIR/$name-a.log" ${B_PID:+"$RUN_DIR/$name-b.log"} | awk -F: '{s+=$NF} END {print s+0}')" >>"$RUN_DIR/$name.txt"
    stop_pid "$A_PID"
    stop_pid "$B_PID"
    A_PID=""
    B_PID=""
}

summarize() {
    python3 - "$RUN_DIR" "$STREAMS" "$SPREAD" "$ROUNDS" "$DB" "$(nproc)" "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
        "$(git -C "$REPO" rev-parse --short "${BENCH_REF:-HEAD}")" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY' | tee "$RUN_DIR/summary.txt"
import sys, time
run, streams, spread, rounds, db, nproc, cpu, git, load_before, load_after = sys.argv[1:]
def read(name):
    return dict(l.strip().split("=", 1) for l in open(f"{run}/{name}.txt") if "=" in l)
two = db == "postgres"
print("Tavus Orchestrator live streams, %s" % time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
print("machine: %s cores, %s; code %s; load average %s at the start, %s at the end" % (nproc, cpu, git, load_before, load_after))
print("store: %s" % ("PostgreSQL, two instances: streams on B, callbacks recorded by A (LISTEN/NOTIFY)" if two else "SQLite, one instance"))
print("%d streams; idle CPU over 10 s of the instance holding them, with them and (before) without; RSS per stream = RSS growth" % int(streams))
print("from opening them / streams (after a warm-up of 100 streams opened and closed); fan-out over %s rounds, one callback per conversation each" % rounds)
print()
print("%-20s %6s %22s %12s %10s %10s %10s %8s" % ("layout", "open", "idle CPU s (no streams)", "KB/stream", "p50 ms", "p99 ms", "max ms", "missing"))
for name, label in (("one", "1 conversation"), ("spread", "%s conversations" % spread)):
    f = read(name)
    cpu_b = float(f["idle_cpu_s_0"])
    cpu = "%.3f (%.3f)" % (cpu_b, float(f["idle_cpu_base_s_0"]))
    per = (int(f["rss_idle_kb"]) - int(f["rss_before_kb"])) / max(1, int(f["streams_open"]))
    print("%-20s %6s %22s %12.1f %10s %10s %10s %8s" % (label, f["streams_open"], cpu, per, f["latency_p50_ms"], f["latency_p99_ms"], f["latency_max_ms"], f["latency_missing"]))
    if two:
        print("    instance A (records the callbacks, listens too): idle CPU %.3f s (%.3f without streams)" % (float(f["idle_cpu_s_1"]), float(f["idle_cpu_base_s_1"])))
    print("    rss before %d MB, with the streams %d MB; streams failed %s; warning/error log lines %s" % (
        int(f["rss_before_kb"]) / 1024, int(f["rss_idle_kb"]) / 1024, f["streams_failed"], f.get("warnings", "?")))
PY
    cp "$RUN_DIR/summary.txt" "$RESULTS/streams-latest.txt"
    log "summary written to $RESULTS/streams-latest.txt; raw outputs in $RUN_DIR"
}

main() {
    mkdir -p "$RUN_DIR"
    LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
    ensure_tools
    ensure_port_free 5190
    ensure_port_free 5192
    publish
    run_layout one 1
    run_layout spread "$SPREAD"
    summarize
}

main "$@"
