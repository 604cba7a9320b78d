using System.Net;
using System.Text.Json;

namespace Tavus.Orchestrator.Tests;

/// <summary>Each way a call ends, from the create to the stored end_reason, with the simulator as Tavus.</summary>
public sealed class LifecycleTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{

    [Fact]
    public async Task Nobody_joining_ends_the_call_with_participant_absent_timeout()
    {
        var created = await Tenant.CreateConversationAsync(new { participant_absent_timeout = 120 });
        var id = created.Str("conversation_id");
        Assert.Equal("created", created.Str("status"));

        Factory.Time.Advance(TimeSpan.FromSeconds(3));
        await Tenant.WaitForStatusAsync(id, "active");

        Factory.Time.Advance(TimeSpan.FromSeconds(118));
        var ended = await Tenant.WaitForConversationAsync(id, c => c.GetProperty("transcript").ValueKind == JsonValueKind.Array, "ended with a transcript");

        Assert.Equal("ended", ended.Str("status"));
        Assert.Equal("participant_absent_timeout", ended.Str("end_reason"));
        Assert.Equal("participant_absent_timeout reached", ended.Str("shutdown_reason"));
        Assert.Equal(["replica_joined", "ended", "transcription_ready"],
            ended.GetProperty("events").EnumerateArray().Select(e => e.Str("kind")));
        Assert.All(ended.GetProperty("events").EnumerateArray(), e => Assert.Equal("webhook", e.Str("source")));
    }

    [Fact]
    public async Task The_last_participant_leaving_ends_the_call_with_participant_left_timeout()
    {
        var id = (await Tenant.CreateConversationAsync(new { participant_left_timeout = 60 })).Str("conversation_id");
        Factory.Time.Advance(TimeSpan.FromSeconds(3));
        await Tenant.WaitForStatusAsync(id, "active");

        await Factory.SimulatorControlAsync(id, "join");
        Factory.Time.Advance(TimeSpan.FromSeconds(400));
        Assert.Equal("active", (await Tenant.GetConversationAsync(id)).Str("status"));

        await Factory.SimulatorControlAsync(id, "leave");
        Factory.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("active", (await Tenant.GetConversationAsync(id)).Str("status"));
        Factory.Time.Advance(TimeSpan.FromSeconds(1));

        var ended = await Tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("participant_left_timeout", ended.Str("end_reason"));
        Assert.Equal(DateTime.Parse(ended.Str("created_at"), null, System.Globalization.DateTimeStyles.RoundtripKind).AddSeconds(463),
            DateTime.Parse(ended.Str("ended_at"), null, System.Globalization.DateTimeStyles.RoundtripKind));
    }

    [Fact]
    public async Task A_call_still_running_at_max_call_duration_ends_with_max_call_duration()
    {
        var created = await Tenant.CreateConversationAsync(new { max_call_duration = 600, participant_left_timeout = 300 });
        var id = created.Str("conversation_id");
        Assert.Equal(
            DateTime.Parse(created.Str("created_at"), null, System.Globalization.DateTimeStyles.RoundtripKind).AddSeconds(600),
            DateTime.Parse(created.Str("deadline_at"), null, System.Globalization.DateTimeStyles.RoundtripKind));

        Factory.Time.Advance(TimeSpan.FromSeconds(3));
        await Factory.SimulatorControlAsync(id, "join");
        Factory.Time.Advance(TimeSpan.FromSeconds(500));
        await Factory.SimulatorControlAsync(id, "leave");
        Factory.Time.Advance(TimeSpan.FromSeconds(97));

        var ended = await Tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("max_call_duration", ended.Str("end_reason"));
    }

    [Fact]
    public async Task Ending_by_request_ends_with_ended_by_request_and_a_second_end_sends_nothing()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");

        var end = await Tenant.PostAsync($"/conversations/{id}/end", null);
        Assert.Equal(HttpStatusCode.Accepted, end.StatusCode);
        var ended = await Tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("ended_by_request", ended.Str("end_reason"));
        Assert.Equal("end_conversation_endpoint_hit", ended.Str("shutdown_reason"));

        var again = await Tenant.PostAsync($"/conversations/{id}/end", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var simulator = Factory.CreateSimulatorClient();
        // The simulator lists a delivery once its answer is back, which may be just after the commit.
        JsonElement deliveries = default;
        await Eventually.TrueAsync(async () =>
        {
            deliveries = await (await simulator.GetAsync($"control/conversations/{id}/deliveries")).ReadJsonAsync();
            return deliveries.EnumerateArray().Any(d => d.Str("event_type") == "system.shutdown");
        }, "the shutdown delivery listed");
        Assert.Single(deliveries.EnumerateArray(), d => d.Str("event_type") == "system.shutdown");
    }

    [Fact]
    public async Task Recording_enabled_conversations_store_the_recording()
    {
        var id = (await Tenant.CreateConversationAsync(new { enable_recording = true, recording_s3_bucket_name = "acme-recordings" })).Str("conversation_id");
        await Tenant.PostAsync($"/conversations/{id}/end", null);

        var ended = await Tenant.WaitForConversationAsync(id, c => c.GetProperty("recording").ValueKind == JsonValueKind.Object, "a recording");
        Assert.Equal("acme-recordings", ended.GetProperty("recording").Str("bucket_name"));
    }
}
