using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary><c>POST /v2/conversations</c>: Tavus' answers and Tavus' refusals.</summary>
public sealed partial class CreateConversationTests
{
    [Fact]
    public async Task Create_answers_like_tavus()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        var created = await api.CreateConversationAsync();

        var id = created.GetProperty("conversation_id").GetString()!;
        Assert.Matches(ConversationId(), id);
        Assert.Equal("Objection handling practice", created.GetProperty("conversation_name").GetString());
        Assert.Equal($"https://tavus.daily.co/{id}", created.GetProperty("conversation_url").GetString());
        Assert.Equal("active", created.GetProperty("status").GetString());
        Assert.Equal(SimulatorApp.CallbackUrl, created.GetProperty("callback_url").GetString());
        Assert.Equal(SimulatorClient.ReplicaId, created.GetProperty("replica_id").GetString());
        Assert.Equal(SimulatorClient.PersonaId, created.GetProperty("persona_id").GetString());
        Assert.Equal(SimulatorApp.At(0), created.GetProperty("created_at").GetString());
        Assert.False(created.TryGetProperty("meeting_token", out _));
        Assert.False(created.TryGetProperty("shutdown_reason", out _));
    }

    [Fact]
    public async Task Get_adds_updated_at_and_once_ended_the_shutdown_reason()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        var live = await api.GetConversationAsync(id);
        app.Advance(12);
        await api.EndAsync(id);
        var ended = await api.GetConversationAsync(id);

        Assert.Equal(SimulatorApp.At(0), live.GetProperty("updated_at").GetString());
        Assert.False(live.TryGetProperty("shutdown_reason", out _));
        Assert.Equal("ended", ended.GetProperty("status").GetString());
        Assert.Equal(SimulatorApp.At(12), ended.GetProperty("updated_at").GetString());
        Assert.Equal("end_conversation_endpoint_hit", ended.GetProperty("shutdown_reason").GetString());
    }

    [Fact]
    public async Task Require_auth_adds_a_meeting_token()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        var created = await api.CreateConversationAsync(configure: body => body["require_auth"] = true);

        Assert.False(string.IsNullOrEmpty(created.GetProperty("meeting_token").GetString()));
    }

    [Fact]
    public async Task The_room_url_is_built_on_the_configured_base()
    {
        await using var app = new SimulatorApp(("Simulator:RoomBaseUrl", "https://rooms.example.test/"));
        using var api = app.Api();

        var created = await api.CreateConversationAsync();

        Assert.Equal(
            $"https://rooms.example.test/{created.GetProperty("conversation_id").GetString()}",
            created.GetProperty("conversation_url").GetString());
    }

    [Fact]
    public async Task A_max_call_duration_over_3600_is_refused_naming_the_field()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        var error = await CreateExpectingAsync(api, SimulatorClient.CreateBody(new() { ["max_call_duration"] = 3601 }), HttpStatusCode.BadRequest);

        Assert.Contains("max_call_duration", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync(api));
    }

    [Theory]
    [InlineData("max_call_duration", -1)]
    [InlineData("max_call_duration", 0)]
    [InlineData("participant_left_timeout", -1)]
    [InlineData("participant_absent_timeout", -5)]
    public async Task A_negative_timer_is_refused_naming_the_field(string property, int value)
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        var error = await CreateExpectingAsync(api, SimulatorClient.CreateBody(new() { [property] = value }), HttpStatusCode.BadRequest);

        Assert.Contains(property, error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"persona_id\": ")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("{\"properties\": {\"max_call_duration\": \"long\"}}")]
    public async Task A_body_that_is_not_valid_json_is_refused_with_an_error(string body)
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        using var response = await api.SendJsonAsync(HttpMethod.Post, "/v2/conversations", body);

        var error = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task A_callback_url_that_is_not_an_http_url_is_refused()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        var error = await CreateExpectingAsync(api, SimulatorClient.CreateBody(configure: b => b["callback_url"] = "ftp://receiver.test/x"), HttpStatusCode.BadRequest);

        Assert.Contains("callback_url", error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_fields_are_ignored_like_tavus_does()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var body = SimulatorClient.CreateBody(new() { ["apply_greenscreen"] = true, ["language"] = "english", ["max_call_durations"] = 10 }, b =>
        {
            b["memory_stores"] = new JsonArray("user-42");
            b["document_retrieval_strategy"] = "balanced";
            b["audio_only"] = true;
        });

        using var response = await api.SendJsonAsync(HttpMethod.Post, "/v2/conversations", body.ToJsonString());

        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_concurrency_limit_refuses_with_tavus_message_and_counts_only_live_conversations()
    {
        await using var app = new SimulatorApp(("Simulator:MaxConcurrentConversations", "2"));
        using var api = app.Api();
        var first = await api.CreateConversationIdAsync();
        await api.CreateConversationIdAsync();

        var refused = await CreateExpectingAsync(api, SimulatorClient.CreateBody(), HttpStatusCode.BadRequest);
        var testMode = await api.CreateConversationAsync(configure: b => b["test_mode"] = true);
        await api.EndAsync(first);
        var afterEnd = await api.CreateConversationAsync();

        Assert.Equal("User has reached maximum concurrent conversations", refused.GetProperty("message").GetString());
        Assert.Equal("ended", testMode.GetProperty("status").GetString());
        Assert.Equal("active", afterEnd.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_conversation_ended_by_a_timer_frees_its_place_under_the_limit()
    {
        await using var app = new SimulatorApp(("Simulator:MaxConcurrentConversations", "1"));
        using var api = app.Api();
        await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 30 });
        await CreateExpectingAsync(api, SimulatorClient.CreateBody(), HttpStatusCode.BadRequest);

        app.Advance(30);

        await api.CreateConversationIdAsync();
    }

    private static async Task<System.Text.Json.JsonElement> CreateExpectingAsync(HttpClient api, JsonObject body, HttpStatusCode expected)
    {
        using var response = await api.SendJsonAsync(HttpMethod.Post, "/v2/conversations", body.ToJsonString());
        return await response.ReadJsonAsync(expected);
    }

    private static async Task<int> CountAsync(HttpClient api)
    {
        using var response = await api.GetAsync("/v2/conversations");
        return (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("total_count").GetInt32();
    }

    [GeneratedRegex("^c[0-9a-f]{11}$")]
    private static partial Regex ConversationId();
}
