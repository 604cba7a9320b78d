using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Tavus.Orchestrator.Tests;

public sealed class WebhookTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private readonly HttpClient _tavus = fixture.Factory.CreateClient();

    public static TheoryData<string, string, string?> Fixtures => new()
    {
        { "replica_joined.json", "replica_joined", null },
        { "shutdown_max_call_duration.json", "ended", "max_call_duration" },
        { "shutdown_participant_left_timeout.json", "ended", "participant_left_timeout" },
        { "shutdown_participant_absent_timeout.json", "ended", "participant_absent_timeout" },
        { "shutdown_end_conversation_endpoint_hit.json", "ended", "ended_by_request" },
        { "shutdown_bot_could_not_join.json", "ended", "bot_could_not_join" },
        { "shutdown_room_deleted.json", "ended", "room_deleted" },
        { "shutdown_startup_exception.json", "ended", "startup_error" },
        { "shutdown_internal_error.json", "ended", "error" },
        { "transcription_ready.json", "transcription_ready", null },
        { "recording_ready.json", "recording_ready", null },
        { "recording_ready_storage_uri.json", "recording_ready", null },
        { "perception_analysis.json", "perception_analysis", null },
        { "conversation_perception_analysis_seq.json", "perception_analysis", null },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Each_documented_callback_is_recorded_and_applied(string fixture, string kind, string? endReason)
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);

        var response = await _tavus.PostFixtureAsync(fixture, id, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("recorded", (await response.ReadJsonAsync()).Str("status"));
        var conversation = await Tenant.GetConversationAsync(id);
        var recorded = Assert.Single(conversation.GetProperty("events").EnumerateArray());
        Assert.Equal(kind, recorded.Str("kind"));
        var sent = JsonDocument.Parse(Json.Fixture(fixture)).RootElement;
        Assert.Equal(sent.Str("event_type"), recorded.Str("event_type"));
        Assert.Equal(sent.GetProperty("properties").GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal),
            recorded.GetProperty("properties").GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));

        switch (kind)
        {
            case "ended":
                Assert.Equal("ended", conversation.Str("status"));
                Assert.Equal(endReason, conversation.Str("end_reason"));
                Assert.Equal(sent.GetProperty("properties").Str("shutdown_reason"), conversation.Str("shutdown_reason"));
                Assert.Equal("2025-07-11T07:15:47.472Z", conversation.Str("ended_at"));
                break;
            case "replica_joined":
                Assert.Equal("active", conversation.Str("status"));
                break;
            case "transcription_ready":
                Assert.Equal(4, conversation.GetProperty("transcript").GetArrayLength());
                break;
            case "recording_ready":
                Assert.Equal(1800, conversation.GetProperty("recording").GetProperty("duration").GetInt32());
                break;
            case "perception_analysis":
                Assert.Contains("engaged", conversation.GetProperty("perception_analysis").Str("analysis"), StringComparison.Ordinal);
                break;
        }
    }

    [Fact]
    public async Task A_transcript_is_kept_once_in_its_event_and_shown_from_there()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var first = await _tavus.PostFixtureAsync("transcription_ready.json", id, await Factory.CallbackTokenAsync(id));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        var shown = (await Tenant.GetConversationAsync(id)).GetProperty("transcript");
        var stored = Assert.Single((await Tenant.GetConversationAsync(id)).GetProperty("events").EnumerateArray(), e => e.Str("kind") == "transcription_ready");

        Assert.Equal(stored.GetProperty("properties").GetProperty("transcript").GetRawText(), shown.GetRawText());
        // One copy: the conversation row holds none of what arrives after the end.
        using var scope = Factory.Services.CreateScope();
        var conversation = scope.ServiceProvider.GetRequiredService<Data.OrchestratorDbContext>().Model.FindEntityType(typeof(Conversations.Conversation))!;
        Assert.DoesNotContain(conversation.GetProperties(), p => p.Name is "Transcript" or "Recording" or "PerceptionAnalysis");
    }

    [Fact]
    public async Task A_unix_timestamp_with_a_fraction_is_read_as_utc()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        await _tavus.PostFixtureAsync("conversation_perception_analysis_seq.json", id, await Factory.CallbackTokenAsync(id));

        var events = await (await Tenant.GetAsync($"/conversations/{id}/events")).ReadJsonAsync();
        Assert.Equal("2025-07-11T07:16:05.123Z", events[0].Str("occurred_at"));
    }

    [Fact]
    public async Task A_forged_token_is_401_and_nothing_is_stored()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var other = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var otherToken = await Factory.CallbackTokenAsync(other);

        var forged = await _tavus.PostFixtureAsync("shutdown_max_call_duration.json", id, "forged-token");
        var someoneElses = await _tavus.PostFixtureAsync("shutdown_max_call_duration.json", id, otherToken);
        var missing = await _tavus.PostAsync("/webhook", new StringContent(Json.Fixture("replica_joined.json"), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, someoneElses.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(0, await EventCountAsync());
        Assert.Equal("created", (await Tenant.GetConversationAsync(id)).Str("status"));
    }

    [Theory]
    [InlineData("not json at all", "")]
    [InlineData("""{"event_type": "system.replica_joined", "properties": {} }""", "conversation_id")]
    [InlineData("""{"conversation_id": "{id}", "properties": {} }""", "event_type")]
    [InlineData("[1, 2, 3]", "")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica_joined", "timestamp": 1e300}""", "timestamp")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica_joined", "timestamp": -1e12}""", "timestamp")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica_joined", "timestamp": 1e18}""", "timestamp")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica_joined", "timestamp": "1e300"}""", "timestamp")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica_joined", "timestamp": "yesterday"}""", "timestamp")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica_joined", "seq": -1}""", "seq")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica_joined", "seq": 1e300}""", "seq")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica_joined", "event_type": "system.shutdown"}""", "")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.replica\u0000joined"}""", "event_type")]
    [InlineData("""{"conversation_id": "{id}", "event_type": "system.shutdown", "properties": {"shutdown_reason": "\ud800"}}""", "shutdown_reason")]
    public async Task A_body_that_is_not_a_callback_is_400_naming_the_field_and_stores_nothing(string body, string field)
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);

        var response = await _tavus.PostAsync($"/webhook?token={token}", new StringContent(body.Replace("{id}", id), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).Str("detail"), StringComparison.Ordinal);
        Assert.Equal(0, await EventCountAsync());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Webhooks:MaxBodyBytes"] = "2048" });
        using var tenant = await factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        using var client = factory.CreateClient();
        var body = $$"""{"conversation_id": "{{id}}", "event_type": "application.transcription_ready", "properties": {"transcript": "{{new string('x', 4096)}}"} }""";
        var response = await client.PostAsync($"/webhook?token={await factory.CallbackTokenAsync(id)}", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData(40_000, false, HttpStatusCode.OK)]
    [InlineData(40_000, true, HttpStatusCode.OK)]
    [InlineData(70_000, false, HttpStatusCode.RequestEntityTooLarge)]
    [InlineData(70_000, true, HttpStatusCode.RequestEntityTooLarge)]
    public async Task A_body_is_read_past_the_first_buffer_and_refused_past_the_limit(int transcriptLength, bool chunked, HttpStatusCode expected)
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Webhooks:MaxBodyBytes"] = "65536" });
        using var tenant = await factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        using var client = factory.CreateClient();
        // Numbered words, so that a part read twice or lost shows.
        var transcript = string.Concat(Enumerable.Range(0, transcriptLength / 6).Select(i => $"{i,5} "));
        var body = $$"""{"conversation_id": "{{id}}", "event_type": "application.transcription_ready", "properties": {"transcript": "{{transcript}}"} }""";

        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/webhook?token={await factory.CallbackTokenAsync(id)}")
        {
            Content = chunked ? new UnknownLengthContent(bytes) : new ByteArrayContent(bytes),
        };
        request.Headers.TransferEncodingChunked = chunked;

        var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        var events = (await tenant.GetConversationAsync(id)).GetProperty("events").EnumerateArray().ToList();
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(transcript, Assert.Single(events).GetProperty("properties").Str("transcript"));
        }
        else
        {
            Assert.Empty(events);
        }
    }

    /// <summary>A body sent in parts with no Content-Length, as a chunked request is.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < bytes.Length; offset += 5000)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(5000, bytes.Length - offset)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("?token=")]
    [InlineData("?token=no-such-token")]
    public async Task A_stranger_is_refused_before_the_body_is_read(string query)
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Webhooks:MaxBodyBytes"] = "2048" });
        using var client = factory.CreateClient();
        // Over the size limit and not JSON: had the body been read, the answer would be 413 or 400.
        var tooLarge = new StringContent(new string('x', 4096), Encoding.UTF8, "application/json");

        var response = await client.PostAsync("/webhook" + query, tooLarge);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unknown_event_type_is_stored_as_unknown()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);
        var body = $$"""{"conversation_id": "{{id}}", "event_type": "system.something_new", "message_type": "system", "timestamp": "2025-07-11T07:00:00Z", "properties": {"x": 1} }""";

        var response = await _tavus.PostAsync($"/webhook?token={token}", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var recorded = Assert.Single((await Tenant.GetConversationAsync(id)).GetProperty("events").EnumerateArray());
        Assert.Equal("unknown", recorded.Str("kind"));
        Assert.Equal("system.something_new", recorded.Str("event_type"));
        Assert.Equal(1, recorded.GetProperty("properties").GetProperty("x").GetInt32());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(40_000)] // past the event writer's own 16 KiB encoding buffer
    public async Task Text_outside_ASCII_is_stored_and_read_back_as_it_was_sent(int repeat)
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);
        var speech = string.Concat(Enumerable.Repeat("Olá, 日本語 🎙️ ß ", repeat));
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["conversation_id"] = id,
            ["event_type"] = "conversation.utterance.é",
            ["seq"] = 7,
            ["properties"] = new Dictionary<string, string> { ["role"] = "user", ["speech"] = speech },
        });

        var response = await _tavus.PostAsync($"/webhook?token={token}", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var recorded = Assert.Single((await Tenant.GetConversationAsync(id)).GetProperty("events").EnumerateArray());
        Assert.Equal("conversation.utterance.é", recorded.Str("event_type"));
        Assert.Equal(speech, recorded.GetProperty("properties").Str("speech"));
        Assert.Equal("user", recorded.GetProperty("properties").Str("role"));
    }

    [Fact]
    public async Task A_callback_without_properties_is_stored_with_an_empty_object()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);
        var body = $$"""{"conversation_id": "{{id}}", "event_type": "system.replica_joined", "seq": 1}""";

        var response = await _tavus.PostAsync($"/webhook?token={token}", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var recorded = Assert.Single((await Tenant.GetConversationAsync(id)).GetProperty("events").EnumerateArray());
        Assert.Equal(JsonValueKind.Object, recorded.GetProperty("properties").ValueKind);
        Assert.Empty(recorded.GetProperty("properties").EnumerateObject());
        Assert.Equal("{}", await Factory.QueryAsync(db => db.ConversationEvents
            .Where(e => db.Conversations.Any(c => c.Id == e.ConversationId && c.TavusId == id)).Select(e => e.Properties).SingleAsync()));
    }

    [Fact]
    public async Task The_same_callback_twice_is_a_duplicate_stored_once()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);

        var first = await _tavus.PostFixtureAsync("transcription_ready.json", id, token);
        var second = await _tavus.PostFixtureAsync("transcription_ready.json", id, token);

        Assert.Equal("recorded", (await first.ReadJsonAsync()).Str("status"));
        Assert.Equal("duplicate", (await second.ReadJsonAsync()).Str("status"));
        Assert.Equal(1, await EventCountAsync());
    }

    [Fact]
    public async Task Recorded_lifecycles_survive_a_restart_on_the_same_file()
    {
        await using var database = TestDatabase.Create();
        var first = new OrchestratorFactory(database);
        using var admin = first.CreateAdminClient();
        var apiKey = (await (await admin.PostAsync("/admin/tenants",
            new StringContent("""{"id": "acme", "name": "Acme"}""", Encoding.UTF8, "application/json"))).ReadJsonAsync()).Str("api_key");
        var id = (await first.CreateTenantClient(apiKey).CreateConversationAsync()).Str("conversation_id");
        var token = await first.CallbackTokenAsync(id);
        using var tavus = first.CreateClient();
        await tavus.PostFixtureAsync("replica_joined.json", id, token);
        await tavus.PostFixtureAsync("shutdown_participant_left_timeout.json", id, token);
        await tavus.PostFixtureAsync("transcription_ready.json", id, token);
        await first.DisposeAsync();

        await using var second = new OrchestratorFactory(database);
        var conversation = await second.CreateTenantClient(apiKey).GetConversationAsync(id);

        Assert.Equal("ended", conversation.Str("status"));
        Assert.Equal("participant_left_timeout", conversation.Str("end_reason"));
        Assert.Equal(3, conversation.GetProperty("events").GetArrayLength());
        Assert.Equal(4, conversation.GetProperty("transcript").GetArrayLength());
    }
}
