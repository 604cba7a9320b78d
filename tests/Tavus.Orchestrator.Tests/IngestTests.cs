using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

/// <summary>Callbacks that are repeated, concurrent, late or out of order.</summary>
public sealed class IngestTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private readonly HttpClient _tavus = fixture.Factory.CreateClient();

    [Fact]
    public async Task Twenty_copies_of_one_callback_in_parallel_store_one_row()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            var response = await _tavus.PostFixtureAsync("shutdown_max_call_duration.json", id, token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.ReadJsonAsync()).Str("status");
        }));

        Assert.Equal(1, answers.Count(a => a == "recorded"));
        Assert.Equal(19, answers.Count(a => a == "duplicate"));
        Assert.Equal(1, await EventCountAsync());
    }

    [Fact]
    public async Task Twenty_copies_of_a_seq_event_in_parallel_store_one_row()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            (await (await _tavus.PostFixtureAsync("conversation_perception_analysis_seq.json", id, token)).ReadJsonAsync()).Str("status")));

        Assert.Single(answers, a => a == "recorded");
        Assert.Equal(1, await EventCountAsync());
    }

    [Fact]
    public async Task Shutdown_before_replica_joined_still_ends_the_conversation()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);

        await _tavus.PostFixtureAsync("transcription_ready.json", id, token);
        await _tavus.PostFixtureAsync("shutdown_participant_left_timeout.json", id, token);
        var late = await _tavus.PostFixtureAsync("replica_joined.json", id, token);

        Assert.Equal("recorded", (await late.ReadJsonAsync()).Str("status"));
        var conversation = await Tenant.GetConversationAsync(id);
        Assert.Equal("ended", conversation.Str("status"));
        Assert.Equal("participant_left_timeout", conversation.Str("end_reason"));
        Assert.Equal(["replica_joined", "ended", "transcription_ready"],
            conversation.GetProperty("events").EnumerateArray().Select(e => e.Str("kind")));
    }

    [Fact]
    public async Task A_second_different_end_is_a_duplicate_and_the_first_end_stays()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);

        await _tavus.PostFixtureAsync("shutdown_max_call_duration.json", id, token);
        var second = await _tavus.PostFixtureAsync("shutdown_internal_error.json", id, token);

        Assert.Equal("duplicate", (await second.ReadJsonAsync()).Str("status"));
        var conversation = await Tenant.GetConversationAsync(id);
        Assert.Equal("max_call_duration", conversation.Str("end_reason"));
        Assert.Single(conversation.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task Events_differing_only_in_timestamp_are_both_kept()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);
        foreach (var timestamp in new[] { "2025-07-11T07:00:00Z", "1752217201.5" })
        {
            var body = $$"""{"conversation_id": "{{id}}", "event_type": "system.heartbeat", "timestamp": {{(timestamp.Contains('Z', StringComparison.Ordinal) ? $"\"{timestamp}\"" : timestamp)}}, "properties": {} }""";
            var response = await _tavus.PostAsync($"/webhook?token={token}", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal("recorded", (await response.ReadJsonAsync()).Str("status"));
        }
        Assert.Equal(2, await EventCountAsync());
    }

    [Fact]
    public async Task A_full_queue_answers_503_with_Retry_After_and_stores_nothing_for_it()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Events:QueueCapacity"] = "1" });
        var tenant = await factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await factory.CallbackTokenAsync(id);
        using var tavus = factory.CreateClient();

        // Hold a lock so that the writer cannot commit and the queue fills.
        await using var blocker = await factory.Database.BlockEventWritesAsync();
        var sends = Enumerable.Range(1, 6).Select(seq => tavus.PostAsync($"/webhook?token={token}", new StringContent(
            $$"""{"conversation_id": "{{id}}", "event_type": "conversation.utterance", "seq": {{seq}}, "timestamp": 1752218165.5, "properties": {} }""",
            Encoding.UTF8, "application/json"))).ToList();
        await Eventually.TrueAsync(() => sends.Count(t => t.IsCompleted) >= 4, "the overflow answered");
        await using (var commit = blocker.CreateCommand())
        {
            commit.CommandText = "COMMIT;";
            await commit.ExecuteNonQueryAsync();
        }
        var answers = await Task.WhenAll(sends);

        var busy = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.True(busy.Count >= 4, $"{busy.Count} of 6 answered 503");
        Assert.All(busy, a => Assert.Equal("1", a.Headers.GetValues("Retry-After").Single()));
        var stored = answers.Count(a => a.StatusCode == HttpStatusCode.OK);
        Assert.Equal(6, busy.Count + stored);
        Assert.Equal(stored, await factory.QueryAsync(db => db.ConversationEvents.CountAsync()));
    }

    [Fact]
    public async Task One_commit_of_repeats_two_ends_and_many_events_stores_each_event_once()
    {
        await using var factory = new OrchestratorFactory();
        var tenant = await factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await factory.CallbackTokenAsync(id);
        using var tavus = factory.CreateClient();
        var writer = factory.Services.GetRequiredService<EventWriter>();
        using var counted = new MetricCollector<long>(factory.Services.GetRequiredService<IMeterFactory>(), "Tavus.Orchestrator", "tavus.orchestrator.callbacks.received");

        // With writes held, the callbacks wait for the writer and then go to the database in one
        // or two transactions: repeats, two ends and distinct events side by side in one batch.
        await using var blocker = await factory.Database.BlockEventWritesAsync();
        var copies = Enumerable.Range(0, 10).Select(_ => tavus.PostFixtureAsync("conversation_perception_analysis_seq.json", id, token));
        var ends = new List<string> { "shutdown_max_call_duration.json", "shutdown_participant_left_timeout.json" }
            .Select(fixture => tavus.PostFixtureAsync(fixture, id, token));
        var utterances = Enumerable.Range(1, 40).Select(seq => tavus.PostAsync($"/webhook?token={token}", new StringContent(
            $$"""{"conversation_id": "{{id}}", "event_type": "conversation.utterance", "seq": {{seq}}, "timestamp": 1752218165.5, "properties": {"role": "user", "content": "line {{seq}}"} }""",
            Encoding.UTF8, "application/json")));
        var sends = copies.Concat(ends).Concat(utterances).ToList();
        await Eventually.TrueAsync(() => writer.Waiting >= sends.Count, "every callback waiting for the held lock");
        await using (var commit = blocker.CreateCommand())
        {
            commit.CommandText = "COMMIT;";
            await commit.ExecuteNonQueryAsync();
        }
        var answers = await Task.WhenAll(sends.Select(async send =>
        {
            var response = await send;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.ReadJsonAsync()).Str("status");
        }));

        Assert.Equal(1, answers.Take(10).Count(a => a == "recorded"));
        Assert.Equal(1, answers.Skip(10).Take(2).Count(a => a == "recorded"));
        Assert.All(answers.Skip(12), a => Assert.Equal("recorded", a));
        Assert.Equal(42, await factory.QueryAsync(db => db.ConversationEvents.CountAsync()));
        Assert.Equal(40, await factory.QueryAsync(db =>
            db.ConversationEvents.Where(e => e.EventType == "conversation.utterance").Select(e => e.Seq).Distinct().CountAsync()));
        // The writer counts each callback once, by its type and outcome, however the batch mixed them.
        long Count(string eventType, string outcome) => counted.GetMeasurementSnapshot()
            .Where(m => m.Tags["event_type"] as string == eventType && m.Tags["outcome"] as string == outcome).Sum(m => m.Value);
        Assert.Equal((1, 9), (Count("conversation.perception_analysis", "recorded"), Count("conversation.perception_analysis", "duplicate")));
        Assert.Equal((1, 1), (Count("system.shutdown", "recorded"), Count("system.shutdown", "duplicate")));
        Assert.Equal((40, 0), (Count("other", "recorded"), Count("other", "duplicate")));
        Assert.Equal(52, counted.GetMeasurementSnapshot().Sum(m => m.Value));
        var conversation = await tenant.GetConversationAsync(id);
        Assert.Equal("ended", conversation.Str("status"));
        Assert.Equal(42, conversation.GetProperty("events").GetArrayLength());
    }
}
