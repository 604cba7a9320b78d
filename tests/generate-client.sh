#!/usr/bin/env bash
# Regenerates the C# client that GeneratedClientTests drives, with NSwag (a dotnet tool, pinned in
# .config/dotnet-tools.json), from the OpenAPI document the service serves. Run it after a change to
# the API; GeneratedClientTests fails until the committed document matches the served one.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/Tavus.Orchestrator.Tests/GeneratedClient
port=${PORT:-5198}
scratch=$(mktemp -d)

dotnet tool restore >/dev/null
dotnet build src/Tavus.Orchestrator -v q -nologo >/dev/null
ConnectionStrings__Orchestrator="Data Source=$scratch/generate.db" \
  setsid dotnet run --no-build --project src/Tavus.Orchestrator --urls "http://127.0.0.1:$port" >"$scratch/service.log" 2>&1 &
service=$!
trap 'kill -- -$service 2>/dev/null || true; rm -rf "$scratch"' EXIT

for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$port/openapi/v1.json" -o "$scratch/openapi.json" && break
  sleep 1
done
[ -s "$scratch/openapi.json" ] || { cat "$scratch/service.log"; exit 1; }

# The server URL is wherever this ran: left out, as the tests leave it out of the served document.
python3 - "$scratch/openapi.json" "$out/openapi.json" <<'PY'
import json, sys
document = json.load(open(sys.argv[1]))
document.pop("servers", None)
with open(sys.argv[2], "w") as f:
    json.dump(document, f, indent=2, ensure_ascii=False)
    f.write("\n")
PY

dotnet nswag openapi2csclient /input:"$out/openapi.json" /output:"$out/OrchestratorClient.g.cs" \
  /classname:OrchestratorClient /namespace:Tavus.Orchestrator.Tests.Generated \
  /JsonLibrary:SystemTextJson /UseBaseUrl:false /GenerateClientInterfaces:false >/dev/null
echo "wrote $out/openapi.json and $out/OrchestratorClient.g.cs"
