using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Tavus.Orchestrator.Tests;

/// <summary>What the service answers, and ends up with, when Tavus misbehaves (simulator fault injection).</summary>
public sealed class TavusFaultTests(TavusFaultTests.ImpatientFixture fixture) : IntegrationTests<TavusFaultTests.ImpatientFixture>(fixture)
{
    /// <summary>A host that gives up on Tavus within seconds, so that a slow Tavus is a fast test.</summary>
    public sealed class ImpatientFixture() : OrchestratorFixture(new()
    {
        ["Tavus:AttemptTimeoutSeconds"] = "1",
        ["Tavus:TotalTimeoutSeconds"] = "2",
    });

    [Fact]
    public async Task A_5xx_on_create_is_502_the_conversation_stays_pending_and_the_reconciler_fails_it_when_Tavus_has_none()
    {
        var atTavusBefore = await AtTavusCountAsync();
        await Factory.SetFaultsAsync(createErrorRate: 1);

        var response = await Tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Contains("500", problem.Str("detail"), StringComparison.Ordinal);
        // Tavus may have created it: the answer names the conversation, which waits for the reconciler.
        var id = problem.Str("conversation_id");
        Assert.Equal("pending", (await Tenant.GetConversationAsync(id)).Str("status"));
        // Not retried: a create that may have reached Tavus is never sent twice; this one did not reach it.
        Assert.Equal(1, Factory.TavusCalls["POST /tavus-sim/v2/conversations"]);
        Assert.Equal(atTavusBefore, await AtTavusCountAsync());

        await Factory.SetFaultsAsync();
        Factory.Time.Advance(TimeSpan.FromSeconds(91)); // past Reconciliation:PendingAfterSeconds, and a pass

        var failed = await Tenant.WaitForStatusAsync(id, "failed");
        Assert.Equal(id, failed.Str("conversation_id"));
    }

    [Fact]
    public async Task Tavus_answering_slower_than_the_timeout_is_504()
    {
        await Factory.SetFaultsAsync(latencyMs: 5000);

        var create = Tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options);
        // The attempt timeout runs on the app's clock: move it on until the call gives up.
        while (!create.IsCompleted)
        {
            Factory.Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.WhenAny(create, Task.Delay(50));
        }

        var response = await create;
        Assert.True(response.StatusCode == HttpStatusCode.GatewayTimeout, await response.Content.ReadAsStringAsync());
        Assert.Equal(504, (await response.ReadJsonAsync()).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_stays_pending_and_is_adopted_when_its_first_callback_arrives()
    {
        Factory.LoseCreateAnswers = true;
        var response = await Tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options);
        Factory.LoseCreateAnswers = false;
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var ours = (await response.ReadJsonAsync()).Str("conversation_id");
        Assert.Equal("pending", (await Tenant.GetConversationAsync(ours)).Str("status"));

        // Tavus did create it, and its replica joins: the callback's token identifies our row.
        Factory.Time.Advance(TimeSpan.FromSeconds(3));
        using var simulator = Factory.CreateSimulatorClient();
        // Newest first: this test's create was the last one Tavus saw.
        var atTavus = (await (await simulator.GetAsync("v2/conversations")).ReadJsonAsync()).GetProperty("data")[0].Str("conversation_id");
        var adopted = await Tenant.WaitForStatusAsync(atTavus, "active");

        Assert.Equal(atTavus, adopted.Str("conversation_id"));
        // The id the 502 carried leads to the same, adopted conversation.
        Assert.Equal(atTavus, (await Tenant.GetConversationAsync(ours)).Str("conversation_id"));
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_and_no_callback_came_is_found_at_Tavus_by_the_reconciler()
    {
        await Factory.SetFaultsAsync(dropRate: 1); // Tavus creates it, but no callback ever arrives
        Factory.LoseCreateAnswers = true;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/conversations") { Content = JsonContent.Create(Scenario.CreateBody(), options: Json.Options) };
        request.Headers.Add("Idempotency-Key", "lost-answer");
        var response = await Tenant.SendAsync(request);
        Factory.LoseCreateAnswers = false;
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var ours = (await response.ReadJsonAsync()).Str("conversation_id");

        // The client's retry gets the same conversation, still pending, and Tavus gets no second create.
        using var retry = new HttpRequestMessage(HttpMethod.Post, "/conversations") { Content = JsonContent.Create(Scenario.CreateBody(), options: Json.Options) };
        retry.Headers.Add("Idempotency-Key", "lost-answer");
        var retried = await Tenant.SendAsync(retry);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        Assert.Equal(ours, (await retried.ReadJsonAsync()).Str("conversation_id"));
        Assert.Equal(1, Factory.TavusCalls["POST /tavus-sim/v2/conversations"]);

        Factory.Time.Advance(TimeSpan.FromSeconds(91)); // past Reconciliation:PendingAfterSeconds, and a pass

        using var simulator = Factory.CreateSimulatorClient();
        // Newest first: this test's create was the last one Tavus saw.
        var atTavus = (await (await simulator.GetAsync("v2/conversations")).ReadJsonAsync()).GetProperty("data")[0].Str("conversation_id");
        var adopted = await Tenant.WaitForStatusAsync(ours, "created");
        Assert.Equal(atTavus, adopted.Str("conversation_id"));
        Assert.StartsWith("https://", adopted.Str("conversation_url"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tavus_concurrency_refusal_is_429()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Simulator:MaxConcurrentConversations"] = "1" });
        var tenant = await factory.CreateTenantAsync("acme");
        await tenant.CreateConversationAsync();

        var response = await tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Contains("maximum concurrent conversations", problem.Str("detail"), StringComparison.Ordinal);
        Assert.EndsWith("/tavus-concurrency-limit", problem.Str("type"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tavus_not_knowing_a_conversation_on_end_is_502_not_our_404()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        await Factory.SetFaultsAsync(dropRate: 1); // the end that deleting sends never arrives
        using var simulator = Factory.CreateSimulatorClient();
        (await simulator.DeleteAsync($"v2/conversations/{id}")).EnsureSuccessStatusCode();

        var response = await Tenant.PostAsync($"/conversations/{id}/end", null);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(502, (await response.ReadJsonAsync()).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Duplicated_callbacks_are_stored_once()
    {
        await Factory.SetFaultsAsync(duplicateRate: 1);
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        Factory.Time.Advance(TimeSpan.FromSeconds(3));
        await Tenant.WaitForStatusAsync(id, "active");
        await Tenant.PostAsync($"/conversations/{id}/end", null);

        var ended = await Tenant.WaitForConversationAsync(id, c => c.GetProperty("transcript").ValueKind == JsonValueKind.Array, "the transcript");
        await Eventually.TrueAsync(async () => (await DeliveriesAsync(id)).Count(d => d.GetProperty("status_code").ValueKind == JsonValueKind.Number) == 6,
            "all six deliveries answered");

        Assert.Equal(["replica_joined", "ended", "transcription_ready"], ended.GetProperty("events").EnumerateArray().Select(e => e.Str("kind")));
        var answers = (await DeliveriesAsync(id)).Select(d => d.GetProperty("status_code").GetInt32()).ToList();
        Assert.All(answers, status => Assert.Equal(200, status));
        Assert.Equal(3, await EventCountAsync());
    }

    [Fact]
    public async Task Reordered_callbacks_end_in_the_right_state_and_order()
    {
        await Factory.SetFaultsAsync(reorder: true);
        var id = (await Tenant.CreateConversationAsync(new { participant_left_timeout = 30 })).Str("conversation_id");
        Factory.Time.Advance(TimeSpan.FromSeconds(3));
        await Factory.SimulatorControlAsync(id, "join");
        await Factory.SimulatorControlAsync(id, "leave");
        Factory.Time.Advance(TimeSpan.FromSeconds(30));

        // Waited for by status: a GET reads the conversation, then its timeline (not one snapshot), so
        // once it says ended the end is in the timeline, while three events may come with the status before them.
        var ended = await Tenant.WaitForConversationAsync(id, c => c.Str("status") == "ended" && c.GetProperty("events").GetArrayLength() == 3,
            "ended, with three events");

        var delivered = (await DeliveriesAsync(id)).Select(d => d.Str("event_type")).ToList();
        Assert.True(delivered.IndexOf("system.shutdown") < delivered.IndexOf("system.replica_joined"), string.Join(", ", delivered));
        Assert.Equal("ended", ended.Str("status"));
        Assert.Equal("participant_left_timeout", ended.Str("end_reason"));
        Assert.Equal(["replica_joined", "ended", "transcription_ready"], ended.GetProperty("events").EnumerateArray().Select(e => e.Str("kind")));
    }

    /// <summary>How many conversations Tavus holds, whoever created them.</summary>
    private async Task<int> AtTavusCountAsync()
    {
        using var simulator = Factory.CreateSimulatorClient();
        return (await (await simulator.GetAsync("v2/conversations")).ReadJsonAsync()).GetProperty("total_count").GetInt32();
    }

    private async Task<List<JsonElement>> DeliveriesAsync(string id)
    {
        using var simulator = Factory.CreateSimulatorClient();
        var deliveries = await (await simulator.GetAsync($"control/conversations/{id}/deliveries")).ReadJsonAsync();
        return [.. deliveries.EnumerateArray()];
    }
}
