using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Xunit.Abstractions;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Every route of <c>/openapi/v1.json</c>, tried with inputs nobody listed: wrong types, out-of-range
/// numbers and dates, huge and odd strings, deep nesting, duplicate keys, wrong or missing
/// <c>Content-Type</c>, each <c>Accept</c>, with and without keys. Whatever arrives, the answer is
/// below 500, a refusal is ProblemDetails whose <c>status</c> is the HTTP status, every answer comes
/// within a bound, and the service is still ready afterwards.
/// </summary>
/// <remarks>
/// <para>
/// CsCheck rather than FsCheck: its generators are plain C# values composed with LINQ (a request is
/// <c>from path … from body … select</c>), and a run is named by one seed string. FsCheck is F#-first
/// and its xunit integration is built around property attributes, which fit a pure function better
/// than a request sequence against one running host.
/// </para>
/// <para>
/// The requests come from one PCG stream, in order, one at a time: the same seed sends the same
/// requests (CsCheck's own <c>Sample</c> fixes only its first iteration by seed and runs the rest on
/// random threads). Instead of re-running to shrink, each distinct failure (route, kind, status,
/// server exception) keeps the smallest request that showed it, with that request's own seed.
/// </para>
/// <para>
/// Knobs: <c>HOSTILE_ITERATIONS</c> (default <see cref="DefaultIterations"/>); <c>HOSTILE_SEED</c>, a
/// number for another run (a PCG stream of its own) or a CsCheck seed string: a failure prints its
/// request's, and <c>HOSTILE_SEED=… HOSTILE_ITERATIONS=1</c> sends just that request again;
/// <c>HOSTILE_SECONDS</c>, to run that long instead of a number of requests when exploring.
/// </para>
/// </remarks>
public sealed partial class HostileInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DefaultIterations = 3000;
    private const int MaxRefusalBytes = 64 * 1024;
    private const int MaxFindings = 60;
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(10);

    /// <summary>The run's seed when HOSTILE_SEED is not set.</summary>
    private static readonly PCG DefaultStart = new(stream: 1, seed: 20251202);

    /// <summary>Routes not tried, each with its reason.</summary>
    private static readonly Dictionary<string, string> Excluded = new()
    {
        ["PUT /tavus-sim/control/faults"] = "makes Tavus fail and stall on purpose: the 502s and 504s that follow are the contract",
    };

    /// <summary>Routes tried only with ids that are not the seeded conversations', each with its reason.</summary>
    private static readonly Dictionary<string, string> NoRealIds = new()
    {
        ["DELETE /tavus-sim/v2/conversations/{conversationId}"] =
            "deleting a seeded conversation at Tavus makes the orchestrator's next end of it a 502 (Tavus refusing), as the contract says",
    };

    private readonly LogCapture _logs = new();
    private readonly Dictionary<string, string> _real = [];
    private readonly Dictionary<string, Finding> _findings = [];
    private readonly Dictionary<string, SortedDictionary<int, int>> _statuses = [];
    private OrchestratorFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _factory = new OrchestratorFactory(settings: new()
        {
            // The test explores the surface, not the limiter: far above what it sends.
            ["RateLimits:RequestsPerSecond"] = "10000",
            ["RateLimits:WebhookRefusalsPerMinute"] = "10000",
            ["RateLimits:AuthFailuresPerMinute"] = "10000",
            ["Events:MaxStreamsPerTenant"] = "10000",
            ["Simulator:MaxConcurrentConversations"] = "100000",
            ["Serilog:MinimumLevel:Default"] = "Error",
        });
        _factory.ConfigureServices = services => services.AddSingleton<ILogEventSink>(_logs);
        _client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        await SeedAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    /// <summary>A tenant with a policy, a bystander tenant, conversations in each state, their tokens and a real cursor.</summary>
    private async Task SeedAsync()
    {
        using var admin = _factory.CreateAdminClient();
        async Task<string> CreateTenantAsync(string id, object? policy)
        {
            var response = await admin.PostAsJsonAsync("/admin/tenants", new { id, name = $"Tenant {id}", policy }, Json.Options);
            response.EnsureSuccessStatusCode();
            return (await response.ReadJsonAsync()).Str("api_key");
        }
        _real[Real.TenantId] = "hostile";
        _real[Real.OtherTenantId] = "bystander";
        _real[Real.TenantKey] = await CreateTenantAsync("hostile", new
        {
            max_call_duration = new { @default = 1800, min = 60, max = 3600 },
            participant_left_timeout = new { @default = 60, min = 0, max = 600 },
            participant_absent_timeout = new { @default = 300, min = 0, max = 900 },
            max_concurrent_conversations = 100_000,
            enforcement = "clamp",
        });
        _real[Real.OtherTenantKey] = await CreateTenantAsync("bystander", null);

        using var tenant = _factory.CreateTenantClient(_real[Real.TenantKey]);
        using var bystander = _factory.CreateTenantClient(_real[Real.OtherTenantKey]);
        var ids = new List<string>();
        for (var i = 0; i < Real.Conversations; i++)
        {
            var id = (await (i < 3 ? tenant : bystander).CreateConversationAsync()).Str("conversation_id");
            ids.Add(id);
            _real[Real.Conversation(i)] = id;
            _real[Real.Token(i)] = await _factory.CallbackTokenAsync(id);
        }
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _client.PostFixtureAsync("replica_joined.json", ids[1], _real[Real.Token(1)])).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _client.PostFixtureAsync("shutdown_max_call_duration.json", ids[2], _real[Real.Token(2)])).StatusCode);
        var page = await (await tenant.GetAsync("/conversations?limit=1")).ReadJsonAsync();
        _real[Real.Cursor] = page.Str("next_cursor");
    }

    [Fact]
    public async Task No_input_on_any_route_reaches_a_5xx_a_bare_refusal_or_an_unbounded_answer()
    {
        var document = JsonDocument.Parse(await _client.GetStringAsync("/openapi/v1.json")).RootElement;
        var callbacks = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "callbacks"), "*.json")
            .Order(StringComparer.Ordinal).Select(f => JsonNode.Parse(File.ReadAllText(f))!);
        var operations = ApiOperation.ReadAll(document, new Dictionary<string, IEnumerable<JsonNode>> { ["POST /webhook"] = callbacks })
            .Where(op => !Excluded.ContainsKey(op.Name)).ToList();
        Assert.True(operations.Count >= 15, $"The OpenAPI document lists only {operations.Count} operations.");
        var requests = HostileGen.Requests(operations, op => !NoRealIds.ContainsKey(op.Name));

        var seed = Environment.GetEnvironmentVariable("HOSTILE_SEED") switch
        {
            { Length: > 0 } number when uint.TryParse(number, out var stream) => new PCG(stream, stream).ToString(),
            { Length: > 0 } given => given,
            _ => DefaultStart.ToString(),
        };
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_ITERATIONS"), out var n) ? n : DefaultIterations;
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_SECONDS"), out var t) ? t : 0;
        var pcg = PCG.Parse(seed);
        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (seconds > 0 ? clock.Elapsed.TotalSeconds < seconds : sent < iterations)
        {
            var state = pcg.State;
            var request = requests.Generate(pcg, null, out _);
            await SendAsync(request, pcg.ToString(state));
            sent++;
        }

        await CheckStillReadyAsync();
        output.WriteLine($"{sent:N0} requests in {clock.Elapsed.TotalSeconds:N1} s, seed {seed}.");
        foreach (var (route, reason) in Excluded.Concat(NoRealIds.Select(r => KeyValuePair.Create(r.Key, $"no seeded ids: {r.Value}"))))
        {
            output.WriteLine($"Not tried: {route} ({reason})");
        }
        foreach (var (operation, statuses) in _statuses.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{operation,-70} {string.Join("  ", statuses.Select(s => $"{s.Key}×{s.Value}"))}");
        }
        if (_findings.Count > 0)
        {
            Assert.Fail(Report(seed, sent));
        }
        // A replay of a few requests need not reach every route; a full run must.
        var untried = operations.Select(op => op.Name).Where(name => !_statuses.ContainsKey(name)).ToList();
        Assert.True(untried.Count == 0 || sent < DefaultIterations / 2, $"Never tried: {string.Join(", ", untried)}; raise HOSTILE_ITERATIONS.");
    }
}
