using System.Net;

namespace Tavus.Orchestrator.Tests;

public sealed class ReconciliationTests : IAsyncLifetime
{
    private readonly OrchestratorFactory _factory = new();
    private HttpClient _tenant = null!;

    public async Task InitializeAsync() => _tenant = await _factory.CreateTenantAsync("acme");

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task A_dropped_shutdown_is_recovered_by_the_reconciler_and_the_late_callback_is_a_duplicate()
    {
        await _factory.SetFaultsAsync(dropRate: 1);
        var id = (await _tenant.CreateConversationAsync(new { max_call_duration = 60 })).Str("conversation_id");

        _factory.Time.Advance(TimeSpan.FromSeconds(61));   // Tavus ends it; every callback is dropped
        Assert.Equal("created", (await _tenant.GetConversationAsync(id)).Str("status"));
        _factory.Time.Advance(TimeSpan.FromSeconds(150));  // past deadline + 120 s grace, and a reconciler tick

        var ended = await _tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("max_call_duration", ended.Str("end_reason"));
        var end = Assert.Single(ended.GetProperty("events").EnumerateArray(), e => e.Str("kind") == "ended");
        Assert.Equal("reconciler", end.Str("source"));
        Assert.Equal(ended.Str("ended_at"), end.Str("occurred_at"));

        // The callback Tavus failed to deliver arrives after all: the conversation keeps one end.
        using var tavus = _factory.CreateClient();
        var late = await tavus.PostFixtureAsync("shutdown_max_call_duration.json", id, await _factory.CallbackTokenAsync(id));
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        Assert.Equal("duplicate", (await late.ReadJsonAsync()).Str("status"));
        Assert.Equal(1, _factory.Scalar("SELECT COUNT(*) FROM \"ConversationEvents\" WHERE \"Kind\" = 'Ended'"));
    }

    [Fact]
    public async Task A_conversation_Tavus_runs_past_its_deadline_is_ended_by_the_reconciler()
    {
        var id = (await _tenant.CreateConversationAsync(new { max_call_duration = 3600 })).Str("conversation_id");
        // As if our deadline had passed while Tavus kept the room open (clock skew, a lost end).
        var past = _factory.Database.Provider == "Postgres" ? "2025-05-13 06:00:00+00" : "2025-05-13 06:00:00";
        Assert.Equal(1, _factory.Database.Execute(
            $"UPDATE \"Conversations\" SET \"DeadlineAt\" = '{past}' WHERE \"TavusId\" = '{id}'"));

        _factory.Time.Advance(TimeSpan.FromSeconds(31));

        var ended = await _tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("ended_by_request", ended.Str("end_reason"));
    }

    [Fact]
    public async Task A_silent_conversation_is_checked_and_left_alone_while_Tavus_runs_it()
    {
        await _factory.SetFaultsAsync(dropRate: 1);
        var id = (await _tenant.CreateConversationAsync(new { participant_absent_timeout = 900 })).Str("conversation_id");
        await _factory.SimulatorControlAsync(id, "join");

        _factory.Time.Advance(TimeSpan.FromSeconds(630));   // silent for over StaleAfterSeconds (600)

        // The reconciler asked Tavus (and noted that it heard from it) ...
        await Eventually.TrueAsync(() => _factory.Scalar("SELECT COUNT(*) FROM \"Conversations\" WHERE \"LastEventAt\" IS NOT NULL") == 1,
            "the reconciler checked the silent conversation");
        // ... and, Tavus still running it within its deadline, left it alone.

        Assert.Equal("created", (await _tenant.GetConversationAsync(id)).Str("status"));
        using var simulator = _factory.CreateSimulatorClient();
        var atTavus = await (await simulator.GetAsync($"v2/conversations/{id}")).ReadJsonAsync();
        Assert.Equal("active", atTavus.Str("status"));
    }

    [Fact]
    public async Task Reconciliation_resumes_from_the_database_after_a_restart()
    {
        var first = new OrchestratorFactory();
        var tenant = await first.CreateTenantAsync("acme");
        await first.SetFaultsAsync(dropRate: 1);
        var id = (await tenant.CreateConversationAsync(new { max_call_duration = 60 })).Str("conversation_id");
        var apiKey = tenant.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        await first.DisposeAsync();

        // The new process has a new (empty) simulator: Tavus no longer knows the conversation.
        await using var second = new OrchestratorFactory(first.Database, time: first.Time);
        using var again = second.CreateTenantClient(apiKey);
        Assert.Equal("created", (await again.GetConversationAsync(id)).Str("status"));
        second.Time.Advance(TimeSpan.FromSeconds(240));

        var ended = await again.WaitForStatusAsync(id, "ended");
        Assert.Equal("error", ended.Str("end_reason"));
        Assert.Equal("conversation_not_found_at_tavus", ended.Str("shutdown_reason"));
    }
}
