using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary>What reaches the callback URL: Tavus' documented bodies, in order, once each.</summary>
public sealed partial class CallbackTests
{
    [Fact]
    public async Task Callbacks_are_posted_as_json_to_the_callback_url_in_emission_order()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60 });

        app.Advance(60);

        var callbacks = await app.Callbacks.WaitForAsync(3);
        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], callbacks.Select(c => c.EventType));
        Assert.All(callbacks, callback =>
        {
            Assert.Equal(HttpMethod.Post, callback.Method);
            Assert.Equal(new Uri(SimulatorApp.CallbackUrl), callback.Uri);
            Assert.Equal("application/json", callback.MediaType);
            Assert.Equal(id, callback.Body.GetProperty("conversation_id").GetString());
            Assert.Equal(SimulatorApp.CallbackUrl, callback.Body.GetProperty("webhook_url").GetString());
            Assert.Matches(TavusTimestamp(), callback.Body.GetProperty("timestamp").GetString());
        });
        Assert.Equal(SimulatorApp.At(2), callbacks[0].Body.GetProperty("timestamp").GetString());
        Assert.Equal(SimulatorApp.At(60), callbacks[1].Body.GetProperty("timestamp").GetString());
    }

    [Fact]
    public async Task Every_callback_has_the_shape_of_the_documented_fixture()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["enable_recording"] = true, ["recording_s3_bucket_name"] = "my-recordings" });
        app.Advance(5);
        await api.JoinAsync(id);
        app.Advance(600);

        await api.EndAsync(id);

        var callbacks = await app.Callbacks.WaitForAsync(4);
        (string EventType, string Fixture, string MessageType)[] expected =
        [
            ("system.replica_joined", "replica_joined.json", "system"),
            ("system.shutdown", "shutdown_end_conversation_endpoint_hit.json", "system"),
            ("application.transcription_ready", "transcription_ready.json", "application"),
            ("application.recording_ready", "recording_ready.json", "application"),
        ];
        Assert.Equal(expected.Select(e => e.EventType), callbacks.Select(c => c.EventType));
        foreach (var (callback, (_, fixture, messageType)) in callbacks.Zip(expected))
        {
            Fixtures.AssertSameShape(Fixtures.Callback(fixture), callback.Body);
            Assert.Equal(messageType, callback.Body.GetProperty("message_type").GetString());
        }

        Assert.Equal(
            Fixtures.ShutdownReason("shutdown_end_conversation_endpoint_hit.json"),
            callbacks[1].Body.GetProperty("properties").GetProperty("shutdown_reason").GetString());
    }

    [Fact]
    public async Task Verbose_get_lists_every_event_it_generated_including_the_transcript()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        await api.JoinAsync(id);
        app.Advance(3);
        await api.EndAsync(id);

        var plain = await api.GetConversationAsync(id);
        var verbose = await api.GetConversationAsync(id, verbose: true);

        Assert.False(plain.TryGetProperty("events", out _));
        var events = verbose.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], events.Select(e => e.GetProperty("event_type").GetString()));
        var callbacks = await app.Callbacks.WaitForAsync(3);
        foreach (var (generated, sent) in events.Zip(callbacks))
        {
            Assert.Equal(["event_type", "message_type", "timestamp", "properties"], generated.EnumerateObject().Select(p => p.Name));
            Assert.Equal(sent.Body.GetProperty("message_type").GetString(), generated.GetProperty("message_type").GetString());
            Assert.Equal(sent.Body.GetProperty("timestamp").GetString(), generated.GetProperty("timestamp").GetString());
            Assert.Equal(sent.Body.GetProperty("properties").GetRawText(), generated.GetProperty("properties").GetRawText());
        }

        Assert.True(events[2].GetProperty("properties").GetProperty("transcript").GetArrayLength() > 1);
    }

    [Fact]
    public async Task Transcription_follows_the_shutdown_with_the_system_prompt_first_then_the_turns()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(configure: body => body["custom_greeting"] = "Hey, ready to practise?");
        await api.JoinAsync(id);

        await api.EndAsync(id);

        var callbacks = await app.Callbacks.WaitForAsync(2);
        Assert.Equal(["system.shutdown", "application.transcription_ready"], callbacks.Select(c => c.EventType));
        var properties = callbacks[1].Body.GetProperty("properties");
        Assert.Equal(SimulatorClient.ReplicaId, properties.GetProperty("replica_id").GetString());
        var transcript = properties.GetProperty("transcript").EnumerateArray().ToArray();
        Assert.Equal("system", transcript[0].GetProperty("role").GetString());
        var systemPrompt = transcript[0].GetProperty("content").GetString()!;
        Assert.Contains(SimulatorClient.Context, systemPrompt, StringComparison.Ordinal);
        Assert.Contains(SimulatorClient.PersonaId, systemPrompt, StringComparison.Ordinal);
        Assert.True(systemPrompt.Length > 10_000, "Tavus' system prompts make bodies of over 10 KB");
        Assert.True(transcript.Length >= 4);
        Assert.All(transcript.Skip(1), turn => Assert.True(turn.GetProperty("role").GetString() is "user" or "assistant"));
        Assert.Equal("Hey, ready to practise?", transcript[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Transcript_of_a_call_nobody_joined_holds_only_the_system_prompt()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        app.Advance(300);

        var events = (await api.GetConversationAsync(id, verbose: true)).GetProperty("events").EnumerateArray().ToArray();
        var transcript = events.Single(e => e.GetProperty("event_type").GetString() == "application.transcription_ready")
            .GetProperty("properties").GetProperty("transcript");
        Assert.Equal("system", Assert.Single(transcript.EnumerateArray()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task Recording_ready_carries_the_bucket_the_key_and_the_duration_when_recording_was_enabled()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new()
        {
            ["max_call_duration"] = 1800,
            ["enable_recording"] = true,
            ["recording_s3_bucket_name"] = "my-recordings",
        });
        await api.JoinAsync(id);

        app.Advance(1800);

        var callbacks = await app.Callbacks.WaitForAsync(4);
        var recording = callbacks[3];
        Assert.Equal("application.recording_ready", recording.EventType);
        var properties = recording.Body.GetProperty("properties");
        Assert.Equal("my-recordings", properties.GetProperty("bucket_name").GetString());
        Assert.Equal($"recordings/{id}/{SimulatorApp.Start.ToUnixTimeSeconds()}.mp4", properties.GetProperty("s3_key").GetString());
        Assert.Equal(1800, properties.GetProperty("duration").GetInt32());
    }

    [Fact]
    public async Task Recording_ready_uses_a_default_bucket_when_none_is_named()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["enable_recording"] = true });
        app.Advance(90);

        await api.EndAsync(id);

        var callbacks = await app.Callbacks.WaitForAsync(4);
        var properties = callbacks[3].Body.GetProperty("properties");
        Assert.False(string.IsNullOrEmpty(properties.GetProperty("bucket_name").GetString()));
        Assert.Equal(90, properties.GetProperty("duration").GetInt32());
    }

    [Fact]
    public async Task Recording_ready_is_not_sent_when_recording_was_not_enabled()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var withoutProperty = await api.CreateConversationIdAsync();
        var disabled = await api.CreateConversationIdAsync(new() { ["enable_recording"] = false });
        app.Advance(10);

        await api.EndAsync(withoutProperty);
        await api.EndAsync(disabled);

        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], await api.EventTypesOfAsync(withoutProperty));
        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], await api.EventTypesOfAsync(disabled));
        Assert.Equal(3, (await api.WaitForDeliveriesAsync(disabled, 3)).Length);
        Assert.DoesNotContain(app.Callbacks.Requests, c => c.EventType == "application.recording_ready");
    }

    [Fact]
    public async Task Without_a_callback_url_nothing_is_sent_but_the_events_are_recorded()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var created = await api.CreateConversationAsync(configure: body => body.Remove("callback_url"));
        var id = created.GetProperty("conversation_id").GetString()!;
        Assert.False(created.TryGetProperty("callback_url", out _));
        app.Advance(10);

        await api.EndAsync(id);

        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], await api.EventTypesOfAsync(id));
        Assert.Empty((await api.DeliveriesAsync(id)).EnumerateArray());
        Assert.Empty(app.Callbacks.Requests);
    }

    [Fact]
    public async Task A_callback_answered_with_an_error_is_logged_and_not_retried()
    {
        await using var app = new SimulatorApp();
        app.Callbacks.Responder = _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        await api.EndAsync(id);

        var deliveries = await api.WaitForDeliveriesAsync(id, 2);
        Assert.All(deliveries, d =>
        {
            Assert.Equal(503, d.GetProperty("status_code").GetInt32());
            Assert.False(d.GetProperty("dropped").GetBoolean());
            Assert.False(d.GetProperty("duplicate").GetBoolean());
        });
        Assert.Equal(["system.shutdown", "application.transcription_ready"], deliveries.Select(d => d.GetProperty("event_type").GetString()));
        Assert.Equal(2, app.Callbacks.Requests.Count);
    }

    [Fact]
    public async Task A_callback_that_cannot_be_delivered_is_logged_with_its_error_and_not_retried()
    {
        await using var app = new SimulatorApp();
        app.Callbacks.Responder = _ => throw new HttpRequestException("Connection refused (receiver.test:443)");
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        app.Advance(2);

        var deliveries = await api.WaitForDeliveriesAsync(id, 1);

        var delivery = Assert.Single(deliveries);
        Assert.Equal("system.replica_joined", delivery.GetProperty("event_type").GetString());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("status_code").ValueKind);
        Assert.Contains("Connection refused", delivery.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(SimulatorApp.At(2), delivery.GetProperty("attempted_at").GetString());
        Assert.Equal("system.replica_joined", delivery.GetProperty("body").GetProperty("event_type").GetString());
        Assert.Single(app.Callbacks.Requests);
    }

    [Fact]
    public async Task Test_mode_creates_an_ended_conversation_that_sends_nothing()
    {
        // Kept past the default retention, so that it can still be read after the longest timer.
        await using var app = new SimulatorApp(("Simulator:RetainEndedSeconds", "7200"));
        using var api = app.Api();
        var created = await api.CreateConversationAsync(configure: body => body["test_mode"] = true);
        var id = created.GetProperty("conversation_id").GetString()!;

        app.Advance(3600);

        Assert.Equal("ended", created.GetProperty("status").GetString());
        Assert.Equal("ended", await api.StatusOfAsync(id));
        Assert.Empty(await api.EventTypesOfAsync(id));
        Assert.Empty((await api.DeliveriesAsync(id)).EnumerateArray());
    }

    [Fact]
    public async Task Deleting_a_live_conversation_sends_a_room_deleted_shutdown()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["enable_recording"] = true });
        app.Advance(2);

        using var response = await api.DeleteAsync($"/v2/conversations/{id}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var callbacks = await app.Callbacks.WaitForAsync(4);
        Assert.Equal(
            ["system.replica_joined", "system.shutdown", "application.transcription_ready", "application.recording_ready"],
            callbacks.Select(c => c.EventType));
        Assert.Equal(
            Fixtures.ShutdownReason("shutdown_room_deleted.json"),
            callbacks[1].Body.GetProperty("properties").GetProperty("shutdown_reason").GetString());
        Fixtures.AssertSameShape(Fixtures.Callback("shutdown_room_deleted.json"), callbacks[1].Body);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")]
    private static partial Regex TavusTimestamp();
}
