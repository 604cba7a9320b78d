using System.Net;
using System.Net.Http.Headers;
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
    private readonly Dictionary<string, string?> _settings = new() { ["Events:PollMilliseconds"] = "100" };
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

    [Fact]
    public async Task A_subscriber_on_one_instance_sees_events_recorded_by_the_other()
    {
        var id = (await _tenantA.CreateConversationAsync()).Str("conversation_id");
        var token = await TokenAsync(id);

        var request = new HttpRequestMessage(HttpMethod.Get, $"/conversations/{id}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await _tenantB.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        using var a = _a.CreateClient();
        foreach (var fixture in new[] { "replica_joined.json", "shutdown_participant_left_timeout.json", "transcription_ready.json" })
        {
            Assert.Equal(HttpStatusCode.OK, (await a.PostFixtureAsync(fixture, id, token)).StatusCode);
        }

        var received = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                received.Add(line["event: ".Length..]);
            }
        }
        Assert.Equal(["replica_joined", "ended", "transcription_ready"], received);
    }
}
