using CsCheck;
using static Tavus.Orchestrator.Tests.HostileValues;

namespace Tavus.Orchestrator.Tests;

/// <summary>The headers: Accept, the keys each security scheme asks for, and Idempotency-Key.</summary>
public static partial class HostileGen
{
    private static readonly Gen<string> GarbageKeys = Gen.Frequency(
        (5, Gen.String[Gen.Char.AlphaNumeric, 1, 64]),
        (2, Gen.OneOf(OddTexts.Where(t => t.All(c => c >= ' ' || c == '\t')).ToArray())),
        (1, Gen.Int[8_000, 64_000].Select(n => new string('k', n))),
        (1, Gen.Const(OrchestratorFactory.AdminKey + " ")));

    /// <summary>A header: absent (a null value) or one of the weighted values.</summary>
    private static Gen<(string Name, string? Value, string Input)> HeaderOf(string name, params (int Weight, Gen<Part?> Value)[] choices) =>
        Gen.Frequency([.. choices.Where(c => c.Weight > 0).Select(c => (c.Weight, (IGen<(string, string?, string)>)c.Value.Select(v =>
            (name, v?.Text, $"{name}: {v?.Input ?? "none"}"))))]);

    private static Gen<Part?> Value(string text, string input) => Gen.Const<Part?>(new Part(text, input));

    private static Gen<Part?> Value(Gen<string> texts, Func<string, string> input) => texts.Select(t => (Part?)new Part(t, input(t)));

    private static readonly Gen<Part?> Absent = Gen.Const((Part?)null);

    private static Gen<(string Name, string? Value, string Input)[]> RightHeadersOf(ApiOperation op)
    {
        var accept = HeaderOf("Accept", (50, Absent), (30, Value("application/json", "application/json")), (20, Value("*/*", "*/*")));
        var key = op.Security switch
        {
            "TenantApiKey" => HeaderOf("X-Api-Key", (9, Value(Real.TenantKey, "the tenant's key")), (1, Value(Real.OtherTenantKey, "another tenant's key"))),
            "AdminApiKey" => HeaderOf("X-Admin-Key", (1, Value(OrchestratorFactory.AdminKey, "the admin key"))),
            "SimulatorApiKey" => HeaderOf("X-Api-Key", (1, Value(OrchestratorFactory.SimulatorKey, "the simulator's key"))),
            _ => HeaderOf("X-Api-Key", (1, Absent)),
        };
        var idempotency = HeaderOf("Idempotency-Key",
            (60, Absent),
            (30, Value(Gen.String[Gen.Char.AlphaNumeric, 1, 40], _ => "random")),
            (10, Value("hostile-replay", "reused")));
        return Gen.Select(accept, key, idempotency, (a, k, i) => new[] { a, k, i });
    }

    private static Gen<(string Name, string? Value, string Input)[]> HeadersOf(ApiOperation op)
    {
        var tenantRoute = op.Security == "TenantApiKey";
        var simulatorRoute = op.Security == "SimulatorApiKey";
        var adminRoute = op.Security == "AdminApiKey";
        var accept = HeaderOf("Accept",
            (25, Absent), (15, Value("application/json", "application/json")), (12, Value("text/event-stream", "text/event-stream")),
            (10, Value("text/html", "text/html")), (10, Value("application/xml", "application/xml")), (8, Value("*/*", "*/*")),
            (5, Value("application/problem+json", "application/problem+json")),
            (5, Value("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "a browser's")),
            (5, Value("text/csv", "text/csv")), (5, Value(";;;garbage", "garbage")));
        var apiKey = HeaderOf("X-Api-Key",
            (tenantRoute ? 12 : 55, Absent),
            (tenantRoute ? 55 : 15, Value(Real.TenantKey, "the tenant's key")),
            (tenantRoute ? 8 : 2, Value(Real.OtherTenantKey, "another tenant's key")),
            (simulatorRoute ? 55 : 3, Value(OrchestratorFactory.SimulatorKey, "the simulator's key")),
            (15, Value(GarbageKeys, k => $"garbage {Clip(k, 20)}")),
            (3, Value("", "empty")));
        var adminKey = HeaderOf("X-Admin-Key",
            (adminRoute ? 15 : 80, Absent),
            (adminRoute ? 55 : 10, Value(OrchestratorFactory.AdminKey, "the admin key")),
            (adminRoute ? 15 : 10, Value(GarbageKeys, k => $"wrong {Clip(k, 20)}")),
            (adminRoute ? 5 : 0, Value("", "empty")));
        var idempotency = HeaderOf("Idempotency-Key",
            (70, Absent),
            (12, Value(Gen.String[Gen.Char.AlphaNumeric, 1, 40], _ => "random")),
            (8, Value("hostile-replay", "reused")),
            (5, Value(Gen.Int[201, 5_000].Select(n => new string('i', n)), k => $"huge ({k.Length:N0} chars)")),
            (5, Value(GarbageKeys, k => $"odd {Clip(k, 20)}")));
        return Gen.Select(accept, apiKey, adminKey, idempotency, (a, k, ad, i) => new[] { a, k, ad, i });
    }
}
