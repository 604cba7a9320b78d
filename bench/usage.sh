#!/usr/bin/env bash
# Times GET /tenant/usage (a month of daily buckets) over 1,000,000 conversations of one tenant on
# SQLite: starts the orchestrator on a scratch database, creates the tenant, stops it, seeds the rows
# with sqlite3 (spread over one month, 80 % ended with one of three reasons, 5 % failed), starts it
# again and times the request a few times with curl. Needs sqlite3 and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
port=${PORT:-5197}
scratch=$(mktemp -d)
db=$scratch/usage.db
url=http://127.0.0.1:$port

dotnet build src/Tavus.Orchestrator -c Release -v q -nologo >/dev/null
start() {
    ConnectionStrings__Orchestrator="Data Source=$db" Admin__ApiKey=bench-admin Serilog__MinimumLevel__Default=Warning \
        setsid dotnet run -c Release --no-build --project src/Tavus.Orchestrator --urls "$url" >>"$scratch/service.log" 2>&1 &
    service=$!
    for _ in $(seq 1 120); do curl -sf "$url/health/ready" >/dev/null && return; sleep 1; done
    cat "$scratch/service.log"; exit 1
}
stop() { kill -- -"$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; }
trap 'stop; [ -n "${KEEP_DB:-}" ] && cp "$db" "$KEEP_DB"; rm -rf "$scratch"' EXIT

start
key=$(curl -sf -X POST "$url/admin/tenants" -H 'X-Admin-Key: bench-admin' -H 'Content-Type: application/json' \
    -d '{"id":"bench","name":"Usage bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
stop

seeded=$(date +%s.%N)
sqlite3 "$db" <<SQL
PRAGMA journal_mode=WAL;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS - 1)
INSERT INTO "Conversations" ("Id", "TenantId", "Status", "MaxCallDuration", "ParticipantLeftTimeout", "ParticipantAbsentTimeout",
    "Adjustments", "CreatedAt", "DeadlineAt", "EndedAt", "EndReason", "CallbackTokenHash")
SELECT 'b' || i, 'bench',
    CASE WHEN i % 20 = 0 THEN 'Failed' WHEN i % 20 < 5 THEN 'Active' ELSE 'Ended' END,
    3600, 60, 300, '[]',
    strftime('%Y-%m-%d %H:%M:%f', '2025-05-01', '+' || (i * 2592000 / $ROWS) || ' seconds'),
    strftime('%Y-%m-%d %H:%M:%f', '2025-05-01', '+' || (i * 2592000 / $ROWS + 3600) || ' seconds'),
    CASE WHEN i % 20 >= 5 THEN strftime('%Y-%m-%d %H:%M:%f', '2025-05-01', '+' || (i * 2592000 / $ROWS + 60 + i % 1800) || ' seconds') END,
    CASE WHEN i % 20 >= 5 THEN CASE i % 3 WHEN 0 THEN 'participant_left_timeout' WHEN 1 THEN 'max_call_duration' ELSE 'participant_absent_timeout' END END,
    'h' || i
FROM n;
SQL
echo "seeded $ROWS conversations in $(echo "$(date +%s.%N) - $seeded" | bc) s"

start
for attempt in 1 2 3; do
    curl -sf -o "$scratch/usage.json" -w "GET /tenant/usage (31 daily buckets over $ROWS conversations): %{time_total} s\n" \
        "$url/tenant/usage?from=2025-05-01&to=2025-06-01&granularity=day" -H "X-Api-Key: $key"
done
# Partial first and last days: those two are read from the conversations, the days between from the rollup.
for attempt in 1 2 3; do
    curl -sf -o /dev/null -w "GET /tenant/usage (from and to at noon: two partial days): %{time_total} s\n" \
        "$url/tenant/usage?from=2025-05-01T12:00:00Z&to=2025-05-31T12:00:00Z&granularity=day" -H "X-Api-Key: $key"
done
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print("totals:", t)' "$scratch/usage.json"
