#!/usr/bin/env bash
# Benchmark of the orchestrator's two hot paths, on this machine, against baselines:
#
#  1. POST /webhook (a Tavus callback stored durably in SQLite before the 200), against two
#     baselines: bench/EmptyEndpoint, Kestrel that reads the body and answers the same 200 and
#     nothing else; and bench/DurableReceiver, the least a receiver can do that answers only once
#     the callback is committed (parse, a group-committed insert, SQLite WAL + synchronous=FULL).
#  2. POST /conversations (policy, a row in SQLite, the create at Tavus), against a create sent
#     directly to the built-in Tavus simulator that the orchestrator itself calls.
#
# Rounds alternate between the targets of each group, so that drift of the machine (heat,
# other load) hits both alike; the summary gives medians. Everything runs on 127.0.0.1.
#
# Usage: bench/run.sh            (from any directory)
# Environment:
#   DURATION            seconds per measured wrk run (default 10)
#   ROUNDS              alternating rounds per pair (default 3)
#   CREATE_CONNECTIONS  wrk connections for the create benchmark (default 8)
#   WEBHOOK_CONNECTIONS wrk connections for the webhook benchmark (default 64; try 256)
#   BENCHMARKS          which to run: "webhook create" (default), "webhook" or "create"
#   WEBHOOK_TARGETS     the webhook targets, in round order (default "empty durable obliged ours", and
#                       pgfloor after durable, guarded after obliged with DB=postgres); e.g. "ours" to see what a setting of
#                       the orchestrator's costs in CPU per request (its environment is passed on)
#   SIM_LATENCY_MS      latency the simulator adds to its /v2 answers during the create benchmark,
#                       to look like a remote Tavus (default 0: the simulator answers at once)
#   DB                  sqlite (default) or postgres: the database the orchestrator uses; postgres
#                       creates a fresh database on the server at BENCH_POSTGRES
#                       (default Host=127.0.0.1;Username=postgres;Password=postgres; psql must reach it)
#   INSTANCES           1 (default) or 2: with 2 (PostgreSQL only) a second instance on the same
#                       database takes half of the webhook connections (two wrk, 32 connections each)
#   WARMUP_SECONDS      load on each target before its first measured run (default 20): the .NET JIT
#                       goes on recompiling hot code (tiered compilation, dynamic PGO) for about
#                       20 s of load on this machine, taking a quarter of the process's CPU meanwhile
#   BENCH_REF           a git revision (e.g. HEAD) to benchmark instead of the working tree: the
#                       orchestrator is then built from `git archive` of it in a temp dir, so
#                       uncommitted work in progress neither breaks nor colours the figures
#
# Output: bench/results/<time>/ (wrk outputs, the orchestrator's log, the summary) and the summary
# again in bench/results/latest.txt. Every server it started is stopped on exit, also on failure.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
OUT=$BENCH_DIR/out
RESULTS=$BENCH_DIR/results

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CREATE_CONNECTIONS=${CREATE_CONNECTIONS:-8}
SIM_LATENCY_MS=${SIM_LATENCY_MS:-0}
DB=${DB:-sqlite}
INSTANCES=${INSTANCES:-1}
BENCH_POSTGRES=${BENCH_POSTGRES:-Host=127.0.0.1;Username=postgres;Password=postgres}
WARMUP_SECONDS=${WARMUP_SECONDS:-20}
WRK_THREADS=2
WEBHOOK_CONNECTIONS=${WEBHOOK_CONNECTIONS:-64}
BENCHMARKS=${BENCHMARKS:-webhook create}

ORCH_URL=http://127.0.0.1:5180
ORCH2_URL=http://127.0.0.1:5182
EMPTY_URL=http://127.0.0.1:5181
DURABLE_URL=http://127.0.0.1:5183
PGFLOOR_URL=http://127.0.0.1:5184
OBLIGED_URL=http://127.0.0.1:5185
GUARDED_URL=http://127.0.0.1:5186
ADMIN_KEY=bench-admin
SIM_KEY=sim-key

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

RUN_DIR=$RESULTS/$(date -u +%Y%m%dT%H%M%SZ)
TMP_DIR=$(mktemp -d -t tavus-bench.XXXXXX)
RUNS_TSV=$RUN_DIR/runs.tsv       # one line per wrk run: phase target round rps p50 p99 requests non2xx sockerr file cpu_ticks db_ticks alloc_bytes wal_bytes
FACTS=$RUN_DIR/facts.env          # key=value facts gathered on the way, read by the summary

ORCH_PID=""
ORCH2_PID=""
EMPTY_PID=""
DURABLE_PID=""
PGFLOOR_PID=""
OBLIGED_PID=""
GUARDED_PID=""
SAMPLER_PID=""
WEBHOOK_RUN=0                     # counts webhook wrk runs: each gets its own seq range

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
fact() { printf '%s=%s\n' "$1" "${2//$'\n'/ }" >>"$FACTS"; }

# --- cleanup ----------------------------------------------------------------------------------

# Stops only what this script started, by pid: the sampler, then the servers (SIGTERM, so the
# orchestrator finishes its queued writes; SIGKILL after 15 s).
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
    stop_pid "$EMPTY_PID"
    stop_pid "$DURABLE_PID"
    stop_pid "$PGFLOOR_PID"
    stop_pid "$OBLIGED_PID"
    stop_pid "$GUARDED_PID"
    stop_pid "$ORCH_PID"
    stop_pid "$ORCH2_PID"
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

# apt-get install, with an apt-get update first only if the package lists are too old to have it.
apt_install() {
    log "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

ensure_tools() {
    command -v wrk >/dev/null || apt_install wrk
    command -v sqlite3 >/dev/null || apt_install sqlite3
    command -v curl >/dev/null || apt_install curl
    command -v python3 >/dev/null || die "python3 is needed to read JSON and wrk's output"
    command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is needed"
}

# A port already taken would make us benchmark some other process.
ensure_port_free() {
    local port=$1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "127.0.0.1:$port is already in use; stop whatever listens there first"
    fi
}

# --- build ------------------------------------------------------------------------------------

publish() {
    local project=$REPO/src/Tavus.Orchestrator
    if [[ -n ${BENCH_REF:-} ]]; then
        log "taking the orchestrator's source from git revision $BENCH_REF"
        mkdir -p "$TMP_DIR/source"
        git -C "$REPO" archive "$BENCH_REF" | tar -x -C "$TMP_DIR/source"
        project=$TMP_DIR/source/src/Tavus.Orchestrator
    fi
    log "publishing the orchestrator, EmptyEndpoint and DurableReceiver (Release) to $OUT"
    rm -rf "$OUT/orchestrator" "$OUT/empty" "$OUT/durable"
    dotnet publish "$project" -c Release -o "$OUT/orchestrator" --nologo -v q >"$RUN_DIR/publish.log" 2>&1 \
        || { cat "$RUN_DIR/publish.log" >&2; die "publishing the orchestrator failed"; }
    dotnet publish "$BENCH_DIR/EmptyEndpoint" -c Release -o "$OUT/empty" --nologo -v q >>"$RUN_DIR/publish.log" 2>&1 \
        || { cat "$RUN_DIR/publish.log" >&2; die "publishing EmptyEndpoint failed"; }
    dotnet publish "$BENCH_DIR/DurableReceiver" -c Release -o "$OUT/durable" --nologo -v q >>"$RUN_DIR/publish.log" 2>&1 \
        || { cat "$RUN_DIR/publish.log" >&2; die "publishing DurableReceiver failed"; }
    # PostgreSQL's floor is the same program in a folder (and log) of its own.
    rm -rf "$OUT/pgfloor" "$OUT/obliged" "$OUT/guarded"
    [[ $DB != postgres ]] || { cp -r "$OUT/durable" "$OUT/pgfloor"; cp -r "$OUT/durable" "$OUT/guarded"; }
    cp -r "$OUT/durable" "$OUT/obliged"
}

# --- servers ----------------------------------------------------------------------------------

# Polls a URL until it answers 200, or fails when the process died or time ran out.
wait_for_200() {
    local url=$1 pid=$2 name=$3
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during start-up"
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$url" || true) == 200 ]]; then
            return 0
        fi
        sleep 0.5
    done
    die "$name did not answer 200 at $url within 60 s"
}

# The orchestrator as deployed: Release build, its default logging (appsettings.json: Serilog to
# the console at Information: a line per request, except stored callbacks, which the event writer
# names in one line per commit), a fresh SQLite file, the built-in simulator
# (no Tavus key) with no concurrency limit so that the create benchmark is never refused.
start_orchestrator() {
    local provider=Sqlite connection="Data Source=$TMP_DIR/orchestrator.db"
    if [[ $DB == postgres ]]; then
        PG_DATABASE=tavus_bench_$(date -u +%Y%m%d%H%M%S)
        pg_sql postgres "CREATE DATABASE $PG_DATABASE;" >/dev/null || die "cannot create database $PG_DATABASE at $BENCH_POSTGRES"
        provider=Postgres
        connection="$BENCH_POSTGRES;Database=$PG_DATABASE"
    fi
    ORCH_PID=$(start_instance "$ORCH_URL" "$provider" "$connection" orchestrator)
    wait_for_200 "$ORCH_URL/health/ready" "$ORCH_PID" orchestrator
    if ((INSTANCES == 2)); then
        [[ $DB == postgres ]] || die "INSTANCES=2 needs DB=postgres"
        ORCH2_PID=$(start_instance "$ORCH2_URL" "$provider" "$connection" orchestrator2)
        wait_for_200 "$ORCH2_URL/health/ready" "$ORCH2_PID" "second orchestrator"
    fi
}

# start_instance URL PROVIDER CONNECTION LOGNAME: one orchestrator process; prints its pid.
# Callbacks name the first instance in their URL; with two instances wrk sends them to both.
start_instance() {
    local url=$1 provider=$2 connection=$3 name=$4
    log "starting an orchestrator on $url ($provider)"
    (
        cd "$OUT/orchestrator"
        export Urls=$url \
            Webhooks__PublicBaseUrl=$ORCH_URL \
            Database__Provider=$provider \
            ConnectionStrings__Orchestrator="$connection" \
            Admin__ApiKey=$ADMIN_KEY \
            Tavus__ApiKey= \
            Simulator__MaxConcurrentConversations=1000000 \
            RateLimits__RequestsPerSecond=1000000
        exec dotnet Tavus.Orchestrator.dll
    ) >"$RUN_DIR/$name.log" 2>&1 &
    echo $!
}

# pg_sql DATABASE SQL: runs SQL on the benchmark's PostgreSQL server, prints the bare result.
pg_sql() {
    python3 - "$BENCH_POSTGRES" "$1" "$2" <<'PY'
import subprocess, sys
parts = dict(p.split("=", 1) for p in sys.argv[1].split(";") if p)
env = {"PGPASSWORD": parts.get("Password", ""), "PATH": "/usr/bin:/bin"}
cmd = ["psql", "-h", parts.get("Host", "127.0.0.1"), "-U", parts.get("Username", "postgres"), "-d", sys.argv[2], "-tAc", sys.argv[3]]
sys.exit(subprocess.run(cmd, env=env).returncode)
PY
}

# start_baseline NAME DIR URL [VAR=value...]: one of the baseline apps; prints its pid once it listens.
start_baseline() {
    local name=$1 dir=$2 url=$3 pid
    shift 3
    log "starting $name on $url"
    (
        cd "$OUT/$dir"
        export Urls=$url
        exec env "$@" dotnet "$name.dll"
    ) >"$RUN_DIR/$dir.log" 2>&1 &
    pid=$!
    # It has no GET route: any HTTP answer (405/404) means it listens.
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during start-up"
        if [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/webhook" || true) != 000 ]]; then
            echo "$pid"
            return 0
        fi
        sleep 0.5
    done
    die "$name did not answer within 60 s"
}

start_baselines() {
    EMPTY_PID=$(start_baseline EmptyEndpoint empty "$EMPTY_URL")
    # On the same disk as the orchestrator's database, so that both pay the same fsync.
    DURABLE_PID=$(start_baseline DurableReceiver durable "$DURABLE_URL" Database="$TMP_DIR/durable-receiver.db")
    if [[ $DB == postgres ]]; then
        # PostgreSQL's floor: the same receiver committing to a database of its own on the same server.
        local floor_database=tavus_floor_$(date -u +%Y%m%d%H%M%S)
        pg_sql postgres "CREATE DATABASE $floor_database;" >/dev/null || die "cannot create database $floor_database"
        PGFLOOR_PID=$(start_baseline DurableReceiver pgfloor "$PGFLOOR_URL" Postgres="$BENCH_POSTGRES;Database=$floor_database")
    fi
    # The floor that keeps the obligations (bench/DurableReceiver/Obligations.cs: token, refused
    # duplicate properties, problem answers, the default logging, telemetry), on the orchestrator's store.
    if [[ $DB == postgres ]]; then
        local obliged_database=tavus_obliged_$(date -u +%Y%m%d%H%M%S)
        pg_sql postgres "CREATE DATABASE $obliged_database;" >/dev/null || die "cannot create database $obliged_database"
        OBLIGED_PID=$(start_baseline DurableReceiver obliged "$OBLIGED_URL" Obliged=true Postgres="$BENCH_POSTGRES;Database=$obliged_database")
        # And keeping the schema's guarantees too (bench/DurableReceiver/Guarded.cs: foreign key, one
        # end, heard-from, NOTIFY heard by a listener, stored rows returned).
        local guarded_database=tavus_guarded_$(date -u +%Y%m%d%H%M%S)
        pg_sql postgres "CREATE DATABASE $guarded_database;" >/dev/null || die "cannot create database $guarded_database"
        GUARDED_PID=$(start_baseline DurableReceiver guarded "$GUARDED_URL" Obliged=true Guarded=true Postgres="$BENCH_POSTGRES;Database=$guarded_database")
    else
        OBLIGED_PID=$(start_baseline DurableReceiver obliged "$OBLIGED_URL" Obliged=true Database="$TMP_DIR/obliged-receiver.db")
    fi
}

# The webhook group: the two floors, PostgreSQL's too when the orchestrator runs on it, and ours.
webhook_targets() {
    if [[ -n ${WEBHOOK_TARGETS:-} ]]; then echo "$WEBHOOK_TARGETS"
    elif [[ $DB == postgres ]]; then echo empty durable pgfloor obliged guarded ours
    else echo empty durable obliged ours; fi
}

# --- JSON and HTTP helpers ----------------------------------------------------------------------

# json_field FIELD < json: prints one top-level field of a JSON object.
json_field() {
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# http METHOD URL HEADER BODY: the answer's body; fails on a non-2xx status, showing the body.
http() {
    local method=$1 url=$2 header=$3 body=${4:-}
    local response status
    response=$(curl -sS -X "$method" "$url" -H "$header" -H 'Content-Type: application/json' \
        ${body:+--data "$body"} -w '\n%{http_code}')
    status=${response##*$'\n'}
    response=${response%$'\n'*}
    [[ $status == 2?? ]] || die "$method $url answered $status: $response"
    printf '%s' "$response"
}

# A tenant, one conversation in it, and that conversation's real callback URL as the simulator
# (Tavus) got it: the webhook benchmark posts with the token a real callback would carry.
create_fixtures() {
    log "creating tenant 'bench' and one conversation"
    TENANT_KEY=$(http POST "$ORCH_URL/admin/tenants" "X-Admin-Key: $ADMIN_KEY" '{"id":"bench","name":"Bench"}' | json_field api_key)
    CONV_ID=$(http POST "$ORCH_URL/conversations" "X-Api-Key: $TENANT_KEY" '{"persona_id":"pbench"}' | json_field conversation_id)
    CALLBACK_URL=$(http GET "$ORCH_URL/tavus-sim/v2/conversations/$CONV_ID" "x-api-key: $SIM_KEY" | json_field callback_url)
    CALLBACK_TOKEN=$(python3 -c 'import sys,urllib.parse as u; print(u.parse_qs(u.urlsplit(sys.argv[1]).query)["token"][0])' "$CALLBACK_URL")
    [[ -n $CALLBACK_TOKEN ]] || die "no token in callback_url $CALLBACK_URL"
    log "conversation $CONV_ID, callback_url ${CALLBACK_URL%%\?*}?token=…"
    fact conversation_id "$CONV_ID"
}

# --- measuring --------------------------------------------------------------------------------

# parse_wrk FILE: "rps p50_ms p99_ms requests non2xx socket_errors" from wrk --latency output.
parse_wrk() {
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
def pct(p):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s|m|h)\s*$" % p, text, re.M)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
requests = re.search(r"(\d+) requests in", text)
non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
print("%.2f %.3f %.3f %d %d %d" % (
    float(rps.group(1)) if rps else 0.0, pct(50), pct(99),
    int(requests.group(1)) if requests else 0,
    int(non2xx.group(1)) if non2xx else 0,
    sum(int(x) for x in sock.groups()) if sock else 0))
PY
}

# CPU time (user + system, in clock ticks) the processes have used so far; a process that has
# ended counts nothing. CPU per request is far steadier than req/s on a busy 2-core machine: it
# shows what a change saves even when the noise hides it in the throughput.
cpu_ticks() {
    local total=0 pid ticks
    for pid in "$@"; do
        ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || true)
        total=$((total + ${ticks:-0}))
    done
    echo "$total"
}

# target_url TARGET: where a target listens (ours, and the create benchmark's direct, at the orchestrator).
target_url() {
    case $1 in
        empty) echo "$EMPTY_URL" ;;
        durable) echo "$DURABLE_URL" ;;
        pgfloor) echo "$PGFLOOR_URL" ;;
        obliged) echo "$OBLIGED_URL" ;;
        guarded) echo "$GUARDED_URL" ;;
        *) echo "$ORCH_URL" ;;
    esac
}

# The server process(es) behind a target, and the database server's processes (PostgreSQL's
# backends, the WAL writer, …; none for SQLite, which runs inside the server process).
target_pids() {
    case $1 in
        empty) echo "$EMPTY_PID" ;;
        durable) echo "$DURABLE_PID" ;;
        pgfloor) echo "$PGFLOOR_PID" ;;
        obliged) echo "$OBLIGED_PID" ;;
        guarded) echo "$GUARDED_PID" ;;
        *) echo "$ORCH_PID $ORCH2_PID" ;;
    esac
}
db_ticks() { if [[ $DB == postgres ]]; then cpu_ticks $(pgrep -x postgres || true); else echo 0; fi; }

# Bytes the orchestrator's process(es) have allocated so far, from the runtime's own counter on
# /metrics (dotnet.gc.heap.total_allocated); the obliged floor serves it too; "-" for the other
# baselines, which serve no metrics, and for a BENCH_REF from before the orchestrator exported it.
# Allocation per request is steadier still than CPU per request, and what the GC and the zeroing
# of fresh memory cost follows from it.
alloc_bytes() {
    case $1 in empty | durable | pgfloor) echo -; return ;; esac
    local urls url total=0 bytes
    urls=$(target_url "$1")
    [[ $urls != "$ORCH_URL" || -z ${ORCH2_PID:-} ]] || urls+=" $ORCH2_URL"
    for url in $urls; do
        bytes=$(curl -s "$url/metrics" | awk '/^dotnet_gc_heap_total_allocated_bytes_total/ {print $2; exit}')
        [[ -n $bytes ]] || { echo -; return; }
        total=$(python3 -c "print(int($total + float('$bytes')))")
    done
    echo "$total"
}

# Bytes PostgreSQL has written to its WAL so far (pg_stat_wal, the whole server: one target runs at
# a time); "-" on SQLite. WAL per request tells what a row, its indexes and its commit cost to log.
wal_bytes() { if [[ $DB == postgres ]]; then pg_sql postgres "SELECT wal_bytes FROM pg_stat_wal" 2>/dev/null || echo -; else echo -; fi; }

# counters TARGET: what every run reads before and after it: the server's CPU ticks, the database's,
# the bytes the orchestrator allocated, PostgreSQL's WAL bytes (the /metrics scrape, a few ms of CPU,
# falls inside the run's CPU window).
counters() { echo "$(cpu_ticks $(target_pids "$1")) $(db_ticks) $(alloc_bytes "$1") $(wal_bytes)"; }

# counter_deltas BEFORE AFTER: how much each counter grew; "-" where either side has none.
counter_deltas() {
    local -a before=($1) after=($2) out=()
    local i
    for i in "${!before[@]}"; do
        if [[ ${before[i]} == - || ${after[i]} == - ]]; then out+=(-); else out+=($((after[i] - before[i]))); fi
    done
    echo "${out[*]}"
}

# run_wrk PHASE TARGET ROUND SECONDS CONNECTIONS SCRIPT URL [VAR=value...]: one wrk run, its output
# kept, its figures appended to runs.tsv. The VAR=value pairs are the lua script's environment.
run_wrk() {
    local phase=$1 target=$2 round=$3 seconds=$4 connections=$5 script=$6 url=$7
    shift 7
    local file=$RUN_DIR/wrk-$phase-$target-$round.txt before cpu db alloc wal
    log "wrk $phase → $target (round $round, ${seconds}s, $connections connections)"
    before=$(counters "$target")
    env "$@" wrk -t"$WRK_THREADS" -c"$connections" -d"${seconds}s" --latency -s "$script" "$url" >"$file" 2>&1 \
        || { cat "$file" >&2; die "wrk failed against $url"; }
    read -r cpu db alloc wal <<<"$(counter_deltas "$before" "$(counters "$target")")"
    local figures
    figures=$(parse_wrk "$file")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$target" "$round" "$(tr ' ' '\t' <<<"$figures")" "$(basename "$file")" "$cpu" "$db" "$alloc" "$wal" >>"$RUNS_TSV"
    log "  → req/s, p50 ms, p99 ms, requests, non-2xx, socket errors: $figures; CPU ticks server $cpu, database $db; bytes allocated $alloc, WAL $wal"
}

# One webhook run; every run gets a seq range of its own (2 threads × 1e9 < 1e10), so no callback
# is a duplicate of an earlier one and every 2xx from the orchestrator is a new stored row.
run_webhook() {
    local phase=$1 target=$2 round=$3 seconds=$4 url
    url=$(target_url "$target")
    WEBHOOK_RUN=$((WEBHOOK_RUN + 1))
    if [[ $target == ours ]] && ((INSTANCES == 2)); then
        run_webhook_two "$phase" "$round" "$seconds"
        return
    fi
    run_wrk "$phase" "$target" "$round" "$seconds" "$WEBHOOK_CONNECTIONS" "$BENCH_DIR/webhook.lua" "$url" \
        BENCH_TOKEN="$CALLBACK_TOKEN" BENCH_CONV_ID="$CONV_ID" BENCH_SEQ_OFFSET="$((WEBHOOK_RUN * 10000000000))"
}

# Two instances: two wrk at once, half the connections each, one to each instance; the run's
# figures are the sum of req/s, the mean of the p50s and the larger p99.
run_webhook_two() {
    local phase=$1 round=$2 seconds=$3 half=$((WEBHOOK_CONNECTIONS / 2)) files=() pids=() figures before cpu db alloc wal
    log "wrk $phase → ours (two instances, round $round, ${seconds}s, $half + $half connections)"
    before=$(counters ours)
    for i in 1 2; do
        local url=$ORCH_URL file=$RUN_DIR/wrk-$phase-ours-$round-instance$i.txt
        ((i == 2)) && url=$ORCH2_URL
        files+=("$file")
        BENCH_TOKEN="$CALLBACK_TOKEN" BENCH_CONV_ID="$CONV_ID" BENCH_SEQ_OFFSET="$((WEBHOOK_RUN * 10000000000 + i * 5000000000))" \
            wrk -t1 -c"$half" -d"${seconds}s" --latency -s "$BENCH_DIR/webhook.lua" "$url" >"$file" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    read -r cpu db alloc wal <<<"$(counter_deltas "$before" "$(counters ours)")"
    figures=$(python3 - "$(parse_wrk "${files[0]}")" "$(parse_wrk "${files[1]}")" <<'PY'
import sys
a, b = ([float(x) for x in arg.split()] for arg in sys.argv[1:3])
print("%.2f %.3f %.3f %d %d %d" % (a[0] + b[0], (a[1] + b[1]) / 2, max(a[2], b[2]), a[3] + b[3], a[4] + b[4], a[5] + b[5]))
PY
)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" ours "$round" "$(tr ' ' '\t' <<<"$figures")" "$(basename "${files[0]}")" "$cpu" "$db" "$alloc" "$wal" >>"$RUNS_TSV"
    log "  → req/s, p50 ms, p99 ms, requests, non-2xx, socket errors: $figures"
}

run_create() {
    local phase=$1 target=$2 round=$3 seconds=$4
    if [[ $target == ours ]]; then
        run_wrk "$phase" "$target" "$round" "$seconds" "$CREATE_CONNECTIONS" "$BENCH_DIR/create.lua" "$ORCH_URL" \
            BENCH_PATH=/conversations BENCH_HEADER="X-Api-Key: $TENANT_KEY" BENCH_BODY='{"persona_id":"pbench"}'
    else
        run_wrk "$phase" "$target" "$round" "$seconds" "$CREATE_CONNECTIONS" "$BENCH_DIR/create.lua" "$ORCH_URL" \
            BENCH_PATH=/tavus-sim/v2/conversations BENCH_HEADER="x-api-key: $SIM_KEY" BENCH_BODY='{"persona_id":"pbench"}'
    fi
}

# Highest VmRSS of a process, sampled every 0.5 s, written to a file until the process ends or
# the sampler is stopped. VmHWM (read at the end) is the kernel's exact peak; this shows when.
sample_rss() {
    local pid=$1 out=$2 max=0 rss
    while kill -0 "$pid" 2>/dev/null; do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        if [[ -n $rss && $rss -gt $max ]]; then
            max=$rss
            echo "$max" >"$out"
        fi
        sleep 0.5
    done
}

proc_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }

webhook_benchmark() {
    log "warm-up: ${WARMUP_SECONDS}s on each webhook target"
    local target
    for target in $(webhook_targets); do
        run_webhook warmup "$target" 0 "$WARMUP_SECONDS"
    done
    for round in $(seq 1 "$ROUNDS"); do
        for target in $(webhook_targets); do
            run_webhook webhook "$target" "$round" "$DURATION"
        done
    done
    fact hwm_after_webhook_kb "$(proc_kb "$ORCH_PID" VmHWM)"
}

create_benchmark() {
    if ((SIM_LATENCY_MS > 0)); then
        log "simulator latency: ${SIM_LATENCY_MS} ms on every /v2 answer (like a remote Tavus)"
        http PUT "$ORCH_URL/tavus-sim/control/faults" "x-api-key: $SIM_KEY" "{\"latency_ms\": $SIM_LATENCY_MS}" >/dev/null
    fi
    log "warm-up: ${WARMUP_SECONDS}s on each create target"
    run_create create-warmup ours 0 "$WARMUP_SECONDS"
    run_create create-warmup direct 0 "$WARMUP_SECONDS"
    for round in $(seq 1 "$ROUNDS"); do
        run_create create ours "$round" "$DURATION"
        run_create create direct "$round" "$DURATION"
    done
}

# Rows stored against what wrk saw answered. Not an equality: wrk does not count the requests
# still in flight when a run's time is up (at most 64 a run), which the orchestrator may still
# commit, and created conversations add their replica_joined callbacks.
db_sql() {
    if [[ $DB == postgres ]]; then pg_sql "$PG_DATABASE" "$1"; else sqlite3 "$TMP_DIR/orchestrator.db" "$1"; fi
}

gather_facts() {
    fact rows_total "$(db_sql 'SELECT COUNT(*) FROM "ConversationEvents";')"
    fact rows_utterance "$(db_sql "SELECT COUNT(*) FROM \"ConversationEvents\" WHERE \"EventType\" = 'conversation.utterance';")"
    fact conversations "$(db_sql 'SELECT COUNT(*) FROM "Conversations";')"
    fact load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
    fact hwm_end_kb "$(proc_kb "$ORCH_PID" VmHWM)"
    fact rss_end_kb "$(proc_kb "$ORCH_PID" VmRSS)"
    fact rss_sampled_max_kb "$(cat "$RUN_DIR/rss-max.kb" 2>/dev/null || echo 0)"
    # A line per request (stored callbacks aside): answers by status, and warnings/errors. Stored
    # callbacks are named in the writer's line per commit: count those lines and the events in them.
    fact log_commits "$(grep -cE '^\[[0-9:]+ INF\] Stored [0-9]+ events' "$RUN_DIR/orchestrator.log" || true)"
    fact log_committed "$(grep -oE '^\[[0-9:]+ INF\] Stored [0-9]+ events' "$RUN_DIR/orchestrator.log" | awk '{s+=$4} END {print s+0}')"
    fact log_statuses "$(grep -oE 'responded [0-9]{3}' "$RUN_DIR/orchestrator.log" | sort | uniq -c | awk '{printf "%s×%s ", $3, $1}')"
    fact log_warnings "$(grep -cE '^\[[0-9:]+ WRN\]' "$RUN_DIR/orchestrator.log" || true)"
    fact log_errors "$(grep -cE '^\[[0-9:]+ (ERR|FTL)\]' "$RUN_DIR/orchestrator.log" || true)"
    fact log_bytes "$(stat -c %s "$RUN_DIR/orchestrator.log")"
    # One line per request makes a large log; kept compressed for reading later.
    gzip -f "$RUN_DIR/orchestrator.log"
}

# --- summary ----------------------------------------------------------------------------------

summarize() {
    fact date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    fact nproc "$(nproc)"
    fact cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    fact dotnet "$(dotnet --list-runtimes | awk '/Microsoft.AspNetCore.App/ {v=$2} END {print v}')"
    fact wrk "$(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}')"
    fact duration "$DURATION"
    fact rounds "$ROUNDS"
    fact warmup "$WARMUP_SECONDS"
    fact create_connections "$CREATE_CONNECTIONS"
    fact webhook_connections "$WEBHOOK_CONNECTIONS"
    fact clock_ticks "$(getconf CLK_TCK)"
    fact sim_latency_ms "$SIM_LATENCY_MS"
    fact store "$([[ $DB == postgres ]] && echo "PostgreSQL, $INSTANCES instance(s)" || echo SQLite)"
    if [[ -n ${BENCH_REF:-} ]]; then
        fact git "$(git -C "$REPO" rev-parse --short "$BENCH_REF") ($BENCH_REF)"
    else
        fact git "$(git -C "$REPO" rev-parse --short HEAD)$([[ -z $(git -C "$REPO" status --porcelain -- src) ]] || echo ' + uncommitted changes in src/')"
    fi
    python3 - "$RUNS_TSV" "$FACTS" <<'PY' | tee "$RUN_DIR/summary.txt"
import statistics, sys
runs = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
facts = {}
for line in open(sys.argv[2]):
    k, _, v = line.rstrip("\n").partition("=")
    facts[k] = v

def sel(phase, target):
    # CPU µs per completed request: the server process(es), and the database server (PostgreSQL).
    # A counter per completed request; nan where the run has none (older runs.tsv, "-").
    per = lambda r, column, unit: int(r[column]) / unit / int(r[6]) if len(r) > column and r[column] != "-" and int(r[6]) else float("nan")
    return [dict(rps=float(r[3]), p50=float(r[4]), p99=float(r[5]), req=int(r[6]), non=int(r[7]), sock=int(r[8]), round=r[2],
                 cpu=per(r, 10, int(facts["clock_ticks"]) / 1e6), db=per(r, 11, int(facts["clock_ticks"]) / 1e6),
                 kb=per(r, 12, 1024), wal=per(r, 13, 1))
            for r in runs if r[0] == phase and r[1] == target]

def med(rows, key):
    return statistics.median(r[key] for r in rows) if rows else float("nan")

def row(label, rows):
    optional = lambda key, form: "—" if med(rows, key) != med(rows, key) else form % med(rows, key)
    return "%-34s %10.1f %9.2f %9.2f %9d %9d %9.1f %9.1f %9s %9s" % (label, med(rows, "rps"), med(rows, "p50"), med(rows, "p99"),
        sum(r["non"] for r in rows), sum(r["sock"] for r in rows), med(rows, "cpu"), med(rows, "db"),
        optional("kb", "%.2f"), optional("wal", "%.0f"))

def rounds(label, rows):
    return "  %-10s " % label + "  ".join("r%s %.0f/s p50 %.2f p99 %.2f cpu %.0fµs" % (r["round"], r["rps"], r["p50"], r["p99"], r["cpu"])
                                         + ("" if r["kb"] != r["kb"] else " %.2f KB" % r["kb"]) for r in rows)

mb = lambda kb: int(kb or 0) / 1024
ratio = lambda a, b: a / b if b else float("nan")
header = "%-34s %10s %9s %9s %9s %9s %9s %9s %9s %9s" % ("", "req/s", "p50 ms", "p99 ms", "non-2xx", "sock err", "CPU µs", "db µs", "KB alloc", "WAL B")
e, d, o = sel("webhook", "empty"), sel("webhook", "durable"), sel("webhook", "ours")
pf = sel("webhook", "pgfloor")
ob = sel("webhook", "obliged")
gu = sel("webhook", "guarded")
co, cd = sel("create", "ours"), sel("create", "direct")
out = []
out.append("Tavus Orchestrator benchmark, %s" % facts["date"])
out.append("machine: %s cores, %s; ASP.NET Core %s; %s; code %s" % (facts["nproc"], facts["cpu"], facts["dotnet"], facts["wrk"], facts["git"]))
out.append("load average (1/5/15 min) at the start: %s, at the end: %s (other work on the machine skews the figures; the runs themselves load both cores)" % (facts["load_before"], facts["load_after"]))
out.append("medians of %s alternating rounds of %s s each (after a %s s warm-up of each target); non-2xx and socket errors summed" % (facts["rounds"], facts["duration"], facts["warmup"]))
out.append("")
out.append("POST /webhook  (wrk -t2 -c%s, distinct conversation.utterance callbacks, ~0.8 KB bodies; CPU µs: the server's CPU time" % facts["webhook_connections"])
out.append("               per request, db µs: PostgreSQL's processes' per request, KB alloc: bytes the orchestrator allocated")
out.append("               per request (its /metrics; the baselines serve none), WAL B: bytes PostgreSQL logged per request;")
out.append("               medians of the rounds)")
out.append(header)
out.append(row("EmptyEndpoint (Kestrel baseline)", e))
out.append(row("DurableReceiver (SQLite, FULL)", d))
if pf:
    out.append(row("DurableReceiver (PostgreSQL)", pf))
if ob:
    out.append(row("DurableReceiver, obliged (%s)" % facts["store"].split(",")[0], ob))
if gu:
    out.append(row("DurableReceiver, guarded (PostgreSQL)", gu))
out.append(row("orchestrator (%s)" % facts["store"], o))
out.append("ours/empty req/s: %.2f   ours/empty p50: %.2f" % (ratio(med(o, "rps"), med(e, "rps")), ratio(med(o, "p50"), med(e, "p50"))))
out.append("durable/empty req/s: %.2f (the cost of a durable write alone)   ours/durable req/s: %.2f (the cost of the rest)" % (
    ratio(med(d, "rps"), med(e, "rps")), ratio(med(o, "rps"), med(d, "rps"))))
if pf:
    out.append("PostgreSQL floor/empty req/s: %.2f   ours/PostgreSQL floor req/s: %.2f" % (ratio(med(pf, "rps"), med(e, "rps")), ratio(med(o, "rps"), med(pf, "rps"))))
if ob:
    out.append("obliged/%s floor req/s: %.2f (what the obligations cost)   ours/obliged req/s: %.2f (ours beyond them)" % (
        "PostgreSQL" if pf else "durable", ratio(med(ob, "rps"), med(pf if pf else d, "rps")), ratio(med(o, "rps"), med(ob, "rps"))))
if gu:
    out.append("guarded/PostgreSQL floor req/s: %.2f (obligations and the schema's guarantees)   ours/guarded req/s: %.2f" % (
        ratio(med(gu, "rps"), med(pf, "rps")), ratio(med(o, "rps"), med(gu, "rps"))))
# CPU a callback, the server's and the database's together: on two cores shared by all, steadier than req/s.
cpu = lambda rows: med(rows, "cpu") + (med(rows, "db") if med(rows, "db") == med(rows, "db") else 0)
out.append("CPU µs a callback (server + database): " + "   ".join("%s %.1f" % (name, cpu(rows)) for name, rows in
    (("empty", e), ("durable", d), ("pgfloor", pf), ("obliged", ob), ("guarded", gu), ("ours", o)) if rows))
out.append(rounds("empty", e))
out.append(rounds("durable", d))
if pf:
    out.append(rounds("pgfloor", pf))
if ob:
    out.append(rounds("obliged", ob))
if gu:
    out.append(rounds("guarded", gu))
out.append(rounds("ours", o))
out.append("")
if co or cd:
    lat = int(facts["sim_latency_ms"])
    out.append("create  (wrk -t2 -c%s, body {\"persona_id\":\"pbench\"}; simulator latency %s)" % (
        facts["create_connections"], "%d ms per /v2 answer, SIM_LATENCY_MS" % lat if lat > 0 else "0: it answers at once"))
    out.append(header)
    out.append(row("POST /conversations (ours)", co))
    out.append(row("POST /tavus-sim/v2/conversations", cd))
    out.append("overhead: ours p50 / direct p50 = %.2f   direct req/s / ours req/s = %.2f" % (
        ratio(med(co, "p50"), med(cd, "p50")), ratio(med(cd, "rps"), med(co, "rps"))))
    out.append(rounds("ours", co))
    out.append(rounds("direct", cd))
    out.append("")
direct_creates = sum(int(r[6]) for r in runs if r[1] == "direct")
out.append("orchestrator memory: peak RSS (VmHWM) %.0f MB after the webhook rounds; %.0f MB at the end (max sampled VmRSS %.0f MB)," % (
    mb(facts.get("hwm_after_webhook_kb")), mb(facts.get("hwm_end_kb")), mb(facts.get("rss_sampled_max_kb"))))
out.append("        the end figure including the built-in simulator's in-memory state of the ~%d conversations created in it directly" % direct_creates)
wh = [r for r in runs if r[1] in ("ours",) and r[0] in ("warmup", "webhook")]
sent = sum(int(r[6]) for r in wh)
ok = sent - sum(int(r[7]) for r in wh)
out.append("sanity: ConversationEvents rows %s (conversation.utterance %s); wrk completed %d webhook requests to the orchestrator, %d of them 2xx (warm-up included)" % (
    facts["rows_total"], facts["rows_utterance"], sent, ok))
out.append("        (utterance rows may exceed the 2xx count by requests in flight when a wrk run stopped: at most %s a run; other rows are replica_joined of %s conversations)" % (facts["webhook_connections"], facts["conversations"]))
out.append("orchestrator log (orchestrator.log.gz): request lines by status %s; %s warning lines, %s error lines; %.0f MB" % (
    facts["log_statuses"].strip() or "none", facts["log_warnings"], facts["log_errors"], int(facts["log_bytes"]) / 1e6))
commits, committed = int(facts["log_commits"] or 0), int(facts["log_committed"] or 0)
out.append("        %d commit lines naming %d stored events (%.1f events per commit)" % (commits, committed, committed / commits if commits else 0))
print("\n".join(out))
PY
    cp "$RUN_DIR/summary.txt" "$RESULTS/latest.txt"
    log "summary written to $RESULTS/latest.txt; raw outputs in $RUN_DIR"
}

# --- main -------------------------------------------------------------------------------------

main() {
    mkdir -p "$RUN_DIR"
    : >"$RUNS_TSV"
    : >"$FACTS"
    # Other work on the machine (a build, a test run) skews every figure on 2 cores: say if there was.
    fact load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
    ensure_tools
    ensure_port_free 5180
    ensure_port_free 5181
    ensure_port_free 5183
    publish
    start_orchestrator
    create_fixtures
    start_baselines

    sample_rss "$ORCH_PID" "$RUN_DIR/rss-max.kb" &
    SAMPLER_PID=$!

    [[ " $BENCHMARKS " != *" webhook "* ]] || webhook_benchmark
    [[ " $BENCHMARKS " != *" create "* ]] || create_benchmark
    gather_facts
    summarize
}

main "$@"
