using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog.Core;
using Serilog.Events;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Secrets — the admin key, tenant API keys, callback tokens — never reach the log, at any level,
/// through any path a request, a callback or the simulator takes.
/// </summary>
public sealed class LoggingTests : IAsyncLifetime
{
    private readonly LogCapture _logs = new();
    private readonly OrchestratorFactory _factory = new(settings: new()
    {
        ["Serilog:MinimumLevel:Default"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Microsoft.EntityFrameworkCore"] = "Verbose",
        ["Serilog:MinimumLevel:Override:System.Net.Http.HttpClient"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Polly"] = "Verbose",
    });

    public Task InitializeAsync()
    {
        _factory.ConfigureServices = services => services.AddSingleton<ILogEventSink>(_logs);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public void A_category_gets_one_logger_which_writes_to_Serilog_at_any_level()
    {
        // Each request's authentication handler and each database context ask for loggers: one
        // per category, made once, not one per request.
        var loggers = _factory.Services.GetRequiredService<ILoggerFactory>();
        var logger = loggers.CreateLogger("Tavus.Orchestrator.Probe");
        Assert.Same(logger, loggers.CreateLogger("Tavus.Orchestrator.Probe"));

        logger.Log(LogLevel.Trace, new EventId(1, "Probe"), 42, null, (_, _) => "Probe");

        var written = Assert.Single(_logs.Events, e => e.Properties.TryGetValue("SourceContext", out var source)
            && source.ToString() == "\"Tavus.Orchestrator.Probe\"");
        Assert.Equal(LogEventLevel.Verbose, written.Level);
        Assert.Equal("Probe", written.RenderMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task No_key_or_token_is_ever_logged()
    {
        using var admin = _factory.CreateAdminClient();
        var created = await (await admin.PostAsJsonAsync("/admin/tenants", new { id = "acme", name = "Acme" })).ReadJsonAsync();
        var firstKey = created.Str("api_key");
        var rotated = await (await admin.PostAsync("/admin/tenants/acme/keys", null)).ReadJsonAsync();
        var apiKey = rotated.Str("api_key");
        using var tenant = _factory.CreateTenantClient(apiKey);
        using var staleTenant = _factory.CreateTenantClient(firstKey);
        using var tavus = _factory.CreateClient();

        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await _factory.CallbackTokenAsync(id);
        Assert.Equal(HttpStatusCode.OK, (await tavus.PostFixtureAsync("replica_joined.json", id, token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tavus.PostFixtureAsync("replica_joined.json", id, token + "x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await staleTenant.GetAsync($"/conversations/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await tenant.PostAsync($"/conversations/{id}/end", null)).StatusCode);
        await tenant.WaitForStatusAsync(id, "ended");

        var logged = _logs.Text();
        Assert.Contains(id, logged, StringComparison.Ordinal); // the capture saw this conversation's traffic
        Assert.Contains("/webhook", logged, StringComparison.Ordinal);
        foreach (var secret in new[] { OrchestratorFactory.AdminKey, OrchestratorFactory.SimulatorKey, firstKey, apiKey, token })
        {
            Assert.DoesNotContain(secret, logged, StringComparison.Ordinal);
        }
    }
}

/// <summary>
/// What the default logging writes for a callback: a stored one is named in its commit's line
/// (the writer's), a refused one gets a request line of its own.
/// </summary>
public sealed class CallbackLogTests : IAsyncLifetime
{
    private readonly LogCapture _logs = new();

    // The service's default level (the tests' factory otherwise logs Warning and up).
    private readonly OrchestratorFactory _factory = new(settings: new() { ["Serilog:MinimumLevel:Default"] = "Information" });

    public Task InitializeAsync()
    {
        _factory.ConfigureServices = services => services.AddSingleton<ILogEventSink>(_logs);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task A_stored_callback_is_named_in_its_commit_line_and_a_refused_one_has_a_line_of_its_own()
    {
        using var tenant = await _factory.CreateTenantAsync("acme");
        using var tavus = _factory.CreateClient();
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await _factory.CallbackTokenAsync(id);

        Assert.Equal(HttpStatusCode.OK, (await tavus.PostFixtureAsync("replica_joined.json", id, token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tavus.PostFixtureAsync("replica_joined.json", id, token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tavus.PostFixtureAsync("replica_joined.json", id, token + "x")).StatusCode);

        // Each commit here holds one callback: its line names it, and says whether it was a duplicate.
        var committed = _logs.Events.Where(e => e.Level == LogEventLevel.Information && e.MessageTemplate.Text.StartsWith("Stored ", StringComparison.Ordinal))
            .Select(e => ((ScalarValue)e.Properties["Events"]).Value as string).ToList();
        Assert.Equal([$"{id} system.replica_joined", $"{id} system.replica_joined (duplicate)"], committed);

        // The refused callback has a request line of its own; the two stored ones have none at this level (theirs are Debug).
        var requestLines = _logs.Events.Where(e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties.TryGetValue("RequestPath", out var path) && path.ToString() == "\"/webhook\"").ToList();
        var refused = Assert.Single(requestLines);
        Assert.Equal(LogEventLevel.Information, refused.Level);
        Assert.Equal("401", refused.Properties["StatusCode"].ToString());
    }

    [Fact]
    public async Task A_request_line_carries_the_trace_id_of_the_callers_traceparent()
    {
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook?token=nobody") { Content = JsonContent.Create(new { }) };
        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var tavus = _factory.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await tavus.SendAsync(request)).StatusCode);

        var line = Assert.Single(_logs.Events, e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties.TryGetValue("RequestPath", out var path) && path.ToString() == "\"/webhook\"");
        Assert.Equal(traceId, line.TraceId);
    }
}

public sealed class CommitLineTests
{
    [Fact]
    public void A_run_of_one_conversations_events_is_one_entry_with_its_count_and_seq_range()
    {
        EventWrite[] writes =
        [
            Write("ca", "conversation.utterance", 7), Write("ca", "conversation.utterance", 8), Write("ca", "conversation.utterance", 10),
            Write("ca", "system.replica_joined", null),
            Write("cb", "conversation.utterance", 3),
            Write("ca", "conversation.utterance", 11), Write("ca", "conversation.utterance", 11),
            Write("ca", "application.transcription_ready", null), Write("ca", "application.transcription_ready", null),
        ];
        RecordOutcome[] outcomes =
        [
            RecordOutcome.Recorded, RecordOutcome.Recorded, RecordOutcome.Recorded, RecordOutcome.Recorded, RecordOutcome.Recorded,
            RecordOutcome.Recorded, RecordOutcome.Duplicate, RecordOutcome.Recorded, RecordOutcome.Recorded,
        ];

        Assert.Equal(
            "ca conversation.utterance ×3 seq 7–10; ca system.replica_joined; cb conversation.utterance seq 3; " +
            "ca conversation.utterance seq 11; ca conversation.utterance seq 11 (duplicate); ca application.transcription_ready ×2",
            EventWriter.Describe(writes, outcomes));
    }

    private static EventWrite Write(string conversation, string type, long? seq) => new(new ConversationEvent
    {
        ConversationId = "internal-" + conversation,
        Kind = Lifecycle.KindOf(type),
        EventType = type,
        Seq = seq,
        Properties = "{}",
        DedupeKey = seq is { } n ? $"seq:{n}" : Guid.NewGuid().ToString(),
    }, EventEffect.None, PublicId: conversation);
}
