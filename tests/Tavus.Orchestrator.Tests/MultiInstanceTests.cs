using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Two orchestrator instances on one database, with one Tavus (a standalone simulator) whose
/// callbacks reach instance A, as a load balancer would send them anywhere.
/// </summary>
public sealed class MultiInstanceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 5, 13, 6, 42, 58, 291, TimeSpan.Zero));
    private readonly Dictionary<string, string?> _settings = [];
    private readonly TestDatabase _database = TestDatabase.Create();
    private SimulatorHost _tavus = null!;
    private OrchestratorFactory _a = null!;
    private OrchestratorFactory _b = null!;
    private HttpClient _tenantA = null!;
    private HttpClient _tenantB = null!;

    public async Task InitializeAsync()
    {
        _tavus = new SimulatorHost(_time, OrchestratorFactory.SimulatorKey);
        _a = new OrchestratorFactory(_database, _settings, _time, _tavus);
        _b = new OrchestratorFactory(_database, _settings, _time, _tavus);
        _tavus.CallbackTarget = () => _a.Server.CreateHandler();
        _ = _a.Server;
        _ = _b.Server;
        _tenantA = await _a.CreateTenantAsync("acme");
        _tenantB = _b.CreateTenantClient(_tenantA.DefaultRequestHeaders.GetValues("X-Api-Key").Single());
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _tavus.DisposeAsync();
        await _database.DisposeAsync();
    }

    private async Task<string> TokenAsync(string conversationId)
    {
        using var tavus = _tavus.CreateApiClient();
        var conversation = await tavus.GetFromJsonAsync<JsonElement>($"v2/conversations/{conversationId}");
        return HttpUtility.ParseQueryString(new Uri(conversation.Str("callback_url")).Query)["token"]!;
    }

    private static int Calls(OrchestratorFactory instance, string call) => instance.TavusCalls.GetValueOrDefault(call);

    [Fact]
    public async Task The_same_callback_on_two_instances_at_once_is_one_event()
    {
        var id = (await _tenantA.CreateConversationAsync()).Str("conversation_id");
        var token = await TokenAsync(id);
        using var a = _a.CreateClient();
        using var b = _b.CreateClient();

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
            (await (await (i % 2 == 0 ? a : b).PostFixtureAsync("shutdown_participant_left_timeout.json", id, token)).ReadJsonAsync()).Str("status")));

        Assert.Single(answers, s => s == "recorded");
        Assert.Equal(1, await _a.QueryAsync(db => db.ConversationEvents.CountAsync()));
        Assert.Equal("participant_left_timeout", (await _tenantB.GetConversationAsync(id)).Str("end_reason"));
    }

    [Fact]
    public async Task The_same_idempotency_key_on_two_instances_at_once_creates_one_conversation()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/conversations")
            {
                Content = JsonContent.Create(Scenario.CreateBody(), options: Json.Options),
            };
            request.Headers.Add("Idempotency-Key", "one-key");
            return (i % 2 == 0 ? _tenantA : _tenantB).SendAsync(request);
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.ReadJsonAsync()).Str("conversation_id")));
        Assert.Single(ids.Distinct());
        Assert.Equal(1, await _a.QueryAsync(db => db.Conversations.CountAsync()));
        Assert.Equal(1, Calls(_a, "POST /v2/conversations") + Calls(_b, "POST /v2/conversations"));
    }

    [Fact]
    public async Task Each_due_conversation_is_checked_by_exactly_one_instance()
    {
        using (var tavus = _tavus.CreateApiClient())
        {
            (await tavus.PutAsJsonAsync("control/faults", new { drop_rate = 1.0 })).EnsureSuccessStatusCode();
        }
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add((await _tenantA.CreateConversationAsync(new { max_call_duration = 60 })).Str("conversation_id"));
        }
        _time.Advance(TimeSpan.FromSeconds(61));   // Tavus ends them all; every callback is lost
        _time.Advance(TimeSpan.FromSeconds(150));  // both instances' reconcilers find them due

        foreach (var id in ids)
        {
            var ended = await _tenantB.WaitForStatusAsync(id, "ended");
            Assert.Equal("max_call_duration", ended.Str("end_reason"));
        }
        const string check = "GET /v2/conversations/{id}";
        Assert.Equal(ids.Count, Calls(_a, check) + Calls(_b, check));
        Assert.Equal(ids.Count, await _a.QueryAsync(db => db.ConversationEvents.CountAsync(e => e.Kind == EventKind.Ended)));
    }

    [Fact]
    public async Task Each_overrun_is_ended_by_exactly_one_instance()
    {
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await _tenantA.CreateConversationAsync()).Str("conversation_id"));
        }
        var past = new DateTime(2025, 5, 13, 6, 0, 0, DateTimeKind.Utc);
        await _a.QueryAsync(db => db.Conversations.ExecuteUpdateAsync(set => set.SetProperty(c => c.DeadlineAt, past)));

        _time.Advance(TimeSpan.FromSeconds(31));

        foreach (var id in ids)
        {
            Assert.Equal("ended_by_request", (await _tenantB.WaitForStatusAsync(id, "ended")).Str("end_reason"));
        }
        const string end = "POST /v2/conversations/{id}/end";
        Assert.Equal(ids.Count, Calls(_a, end) + Calls(_b, end));
    }

    // Live streams across instances ride on PostgreSQL's LISTEN/NOTIFY; SQLite is one instance.
    [PostgresFact]
    public async Task A_stream_on_one_instance_gets_events_recorded_by_the_other_pushed_not_polled()
    {
        var id = (await _tenantA.CreateConversationAsync()).Str("conversation_id");
        var token = await TokenAsync(id);
        using var stream = await SseReader.OpenAsync(_tenantB, $"/conversations/{id}/events");

        // The clock stands still, and nothing polls: only B's listener can bring these.
        using var a = _a.CreateClient();
        foreach (var fixture in new[] { "replica_joined.json", "shutdown_participant_left_timeout.json", "transcription_ready.json" })
        {
            Assert.Equal(HttpStatusCode.OK, (await a.PostFixtureAsync(fixture, id, token)).StatusCode);
        }

        var received = await stream.EventsToEndAsync(seconds: 10);
        Assert.Equal(["replica_joined", "ended", "transcription_ready"], received.Select(f => f.Event));
    }

    [PostgresFact]
    public async Task A_dropped_listener_loses_no_event()
    {
        var id = (await _tenantA.CreateConversationAsync()).Str("conversation_id");
        var token = await TokenAsync(id);
        using var stream = await SseReader.OpenAsync(_tenantB, $"/conversations/{id}/events");
        await Eventually.TrueAsync(async () => (await ListenersAsync()).Count == 2, "both instances listening");
        _time.Advance(TimeSpan.FromSeconds(3)); // the replica joins: Tavus calls back A
        var joined = await stream.NextAsync();
        Assert.Equal("replica_joined", joined?.Event);

        var dropped = await TerminateListenersAsync();
        Assert.Equal(2, dropped.Count);
        using var a = _a.CreateClient();
        foreach (var fixture in new[] { "shutdown_participant_left_timeout.json", "transcription_ready.json" })
        {
            Assert.Equal(HttpStatusCode.OK, (await a.PostFixtureAsync(fixture, id, token)).StatusCode);
        }
        // The listeners reconnect after their backoff (on the clock), then re-read what they missed.
        // A terminated backend stays in pg_stat_activity for a moment: only new ones count.
        await Eventually.TrueAsync(async () =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(500));
            var listening = await ListenersAsync();
            return listening.Count == 2 && !listening.Intersect(dropped).Any();
        }, "both instances listening again");

        var rest = await stream.EventsToEndAsync(seconds: 10);
        Assert.Equal(["ended", "transcription_ready"], rest.Select(f => f.Event));
        var stored = await _a.QueryAsync(db => db.ConversationEvents.CountAsync(e => db.Conversations.Any(c => c.Id == e.ConversationId && c.TavusId == id)));
        Assert.Equal(stored, 1 + rest.Count);
    }

    /// <summary>Ends this test database's listening connections (PostgreSQL's own view of them); their backends.</summary>
    private Task<List<int>> TerminateListenersAsync() => _a.QueryAsync(db => db.Database.SqlQuery<int>($"""
        WITH listeners AS MATERIALIZED (SELECT pid FROM pg_stat_activity
            WHERE application_name = 'tavus-orchestrator-listener' AND datname = current_database())
        SELECT pid AS "Value" FROM listeners WHERE pg_terminate_backend(pid)
        """).ToListAsync());

    /// <summary>The backends of this test database's listening connections.</summary>
    private Task<List<int>> ListenersAsync() => _a.QueryAsync(db => db.Database.SqlQuery<int>($"""
        SELECT pid AS "Value" FROM pg_stat_activity
        WHERE application_name = 'tavus-orchestrator-listener' AND datname = current_database()
        """).ToListAsync());
}
