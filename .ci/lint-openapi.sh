#!/usr/bin/env bash
# Lints the served OpenAPI document with Redocly's recommended rules: builds and starts the
# orchestrator (simulator mode, a throwaway SQLite file), fetches /openapi/v1.json, runs the
# linter and stops the service. Needs node and the npm registry, so .ci/run does not call it;
# tests/Tavus.Orchestrator.Tests/OpenApiTests.cs checks the same rules offline.
set -euo pipefail
cd "$(dirname "$0")/.."

redocly_version=2.77.0
port=${PORT:-5099}
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

dotnet build src/Tavus.Orchestrator -nologo -v q >/dev/null
Urls="http://127.0.0.1:$port" ConnectionStrings__Orchestrator="Data Source=$work/o.db" \
  setsid dotnet run --no-build --project src/Tavus.Orchestrator >"$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$port/openapi/v1.json" -o "$work/v1.json" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/service.log"; exit 1; }
  sleep 1
done
[ -s "$work/v1.json" ] || { echo "the service did not serve /openapi/v1.json"; cat "$work/service.log"; exit 1; }

npx --yes "@redocly/cli@$redocly_version" lint "$work/v1.json"
