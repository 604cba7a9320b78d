using System.Net;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

public sealed class ReconciliationTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    [Fact]
    public async Task A_dropped_shutdown_is_recovered_by_the_reconciler_and_the_late_callback_is_a_duplicate()
    {
        await Factory.SetFaultsAsync(dropRate: 1);
        var id = (await Tenant.CreateConversationAsync(new { max_call_duration = 60 })).Str("conversation_id");

        Factory.Time.Advance(TimeSpan.FromSeconds(61));   // Tavus ends it; every callback is dropped
        Assert.Equal("created", (await Tenant.GetConversationAsync(id)).Str("status"));
        Factory.Time.Advance(TimeSpan.FromSeconds(150));  // past deadline + 120 s grace, and a reconciler tick

        var ended = await Tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("max_call_duration", ended.Str("end_reason"));
        var end = Assert.Single(ended.GetProperty("events").EnumerateArray(), e => e.Str("kind") == "ended");
        Assert.Equal("reconciler", end.Str("source"));
        Assert.Equal(ended.Str("ended_at"), end.Str("occurred_at"));

        // The callback Tavus failed to deliver arrives after all: the conversation keeps one end.
        using var tavus = Factory.CreateClient();
        var late = await tavus.PostFixtureAsync("shutdown_max_call_duration.json", id, await Factory.CallbackTokenAsync(id));
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        Assert.Equal("duplicate", (await late.ReadJsonAsync()).Str("status"));
        Assert.Equal(1, await EventCountAsync(e => e.Kind == EventKind.Ended));
    }

    [Fact]
    public async Task A_conversation_Tavus_runs_past_its_deadline_is_ended_by_the_reconciler()
    {
        var id = (await Tenant.CreateConversationAsync(new { max_call_duration = 3600 })).Str("conversation_id");
        // As if our deadline had passed while Tavus kept the room open (clock skew, a lost end).
        var past = new DateTime(2025, 5, 13, 6, 0, 0, DateTimeKind.Utc);
        Assert.Equal(1, await Factory.QueryAsync(db => db.Conversations.Where(c => c.TavusId == id)
            .ExecuteUpdateAsync(set => set.SetProperty(c => c.DeadlineAt, past))));

        Factory.Time.Advance(TimeSpan.FromSeconds(31));

        var ended = await Tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("ended_by_request", ended.Str("end_reason"));
    }

    [Fact]
    public async Task A_silent_conversation_is_checked_and_left_alone_while_Tavus_runs_it()
    {
        await Factory.SetFaultsAsync(dropRate: 1);
        var id = (await Tenant.CreateConversationAsync(new { participant_absent_timeout = 900 })).Str("conversation_id");
        await Factory.SimulatorControlAsync(id, "join");

        Factory.Time.Advance(TimeSpan.FromSeconds(630));   // silent for over StaleAfterSeconds (600)

        // The reconciler asked Tavus (and noted that it heard from it) ...
        await Eventually.TrueAsync(async () => await ConversationCountAsync(c => c.LastEventAt != null) == 1,
            "the reconciler checked the silent conversation");
        // ... and, Tavus still running it within its deadline, left it alone.

        Assert.Equal("created", (await Tenant.GetConversationAsync(id)).Str("status"));
        using var simulator = Factory.CreateSimulatorClient();
        var atTavus = await (await simulator.GetAsync($"v2/conversations/{id}")).ReadJsonAsync();
        Assert.Equal("active", atTavus.Str("status"));
    }

    [Fact]
    public async Task Reconciliation_resumes_from_the_database_after_a_restart()
    {
        await using var database = TestDatabase.Create();
        var first = new OrchestratorFactory(database);
        var tenant = await first.CreateTenantAsync("acme");
        await first.SetFaultsAsync(dropRate: 1);
        var id = (await tenant.CreateConversationAsync(new { max_call_duration = 60 })).Str("conversation_id");
        var apiKey = tenant.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        await first.DisposeAsync();

        // The new process has a new (empty) simulator: Tavus no longer knows the conversation.
        await using var second = new OrchestratorFactory(database, time: first.Time);
        using var again = second.CreateTenantClient(apiKey);
        Assert.Equal("created", (await again.GetConversationAsync(id)).Str("status"));
        second.Time.Advance(TimeSpan.FromSeconds(240));

        var ended = await again.WaitForStatusAsync(id, "ended");
        Assert.Equal("error", ended.Str("end_reason"));
        Assert.Equal("conversation_not_found_at_tavus", ended.Str("shutdown_reason"));
    }
}
