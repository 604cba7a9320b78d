using System.Net;
using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary>The control routes: people in the room, injected faults, and the deliveries log.</summary>
public sealed class ControlTests
{
    [Fact]
    public async Task Joining_without_an_id_mints_one_and_lists_everyone_in_the_room()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        var first = await api.JoinAsync(id, "alice");
        var second = await api.JoinAsync(id);

        Assert.Equal("alice", first.GetProperty("participant_id").GetString());
        var minted = second.GetProperty("participant_id").GetString();
        Assert.False(string.IsNullOrEmpty(minted));
        Assert.NotEqual("alice", minted);
        Assert.Equal(["alice", minted], second.GetProperty("participants").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task Joining_twice_with_the_same_id_is_409()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        await api.JoinAsync(id, "alice");

        using var response = await api.SendJsonAsync(HttpMethod.Post, $"/control/conversations/{id}/join", "{\"participant_id\": \"alice\"}");

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Joining_an_ended_conversation_is_409()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        await api.EndAsync(id);

        using var response = await api.PostAsync($"/control/conversations/{id}/join", null);

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Joining_after_the_absent_timeout_ended_the_call_is_409()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60 });

        app.Advance(61);
        using var response = await api.PostAsync($"/control/conversations/{id}/join", null);

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("participant_absent_timeout reached", await api.ShutdownReasonOfAsync(id));
    }

    [Fact]
    public async Task Leaving_without_an_id_removes_the_most_recent_participant()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        await api.JoinAsync(id, "alice");
        await api.JoinAsync(id, "bob");

        var left = await api.LeaveAsync(id);

        Assert.Equal("bob", left.GetProperty("participant_id").GetString());
        Assert.Equal(["alice"], left.GetProperty("participants").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task Leaving_a_named_participant_removes_that_one()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        await api.JoinAsync(id, "alice");
        await api.JoinAsync(id, "bob");

        var left = await api.LeaveAsync(id, "alice");

        Assert.Equal(["bob"], left.GetProperty("participants").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task Leaving_an_empty_room_is_409()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        using var response = await api.PostAsync($"/control/conversations/{id}/leave", null);

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Leaving_as_someone_who_is_not_in_the_room_is_409()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        await api.JoinAsync(id, "alice");

        using var response = await api.SendJsonAsync(HttpMethod.Post, $"/control/conversations/{id}/leave", "{\"participant_id\": \"mallory\"}");

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("POST", "/control/conversations/c0123456789a/join")]
    [InlineData("POST", "/control/conversations/c0123456789a/leave")]
    [InlineData("GET", "/control/conversations/c0123456789a/deliveries")]
    public async Task An_unknown_conversation_is_404(string method, string path)
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        using var response = await api.SendJsonAsync(new HttpMethod(method), path, null);

        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_join_body_that_is_not_json_is_400()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        using var response = await api.SendJsonAsync(HttpMethod.Post, $"/control/conversations/{id}/join", "{participant");

        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Faults_that_are_set_are_read_back()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        using var initial = await api.GetAsync("/control/faults");

        using var put = await api.SendJsonAsync(
            HttpMethod.Put,
            "/control/faults",
            "{\"create_error_rate\": 0.25, \"latency_ms\": 5, \"duplicate_rate\": 0.5, \"reorder\": true, \"drop_rate\": 0.1, \"seed\": 42}");
        using var get = await api.GetAsync("/control/faults");

        var none = await initial.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(0, none.GetProperty("drop_rate").GetDouble());
        Assert.False(none.GetProperty("reorder").GetBoolean());
        var answered = await put.ReadJsonAsync(HttpStatusCode.OK);
        var read = await get.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(answered.GetRawText(), read.GetRawText());
        Assert.Equal(0.25, read.GetProperty("create_error_rate").GetDouble());
        Assert.Equal(5, read.GetProperty("latency_ms").GetInt32());
        Assert.Equal(0.5, read.GetProperty("duplicate_rate").GetDouble());
        Assert.True(read.GetProperty("reorder").GetBoolean());
        Assert.Equal(0.1, read.GetProperty("drop_rate").GetDouble());
        Assert.Equal(42, read.GetProperty("seed").GetInt32());
    }

    [Theory]
    [InlineData("{\"create_error_rate\": 1.5}", "create_error_rate")]
    [InlineData("{\"duplicate_rate\": -0.1}", "duplicate_rate")]
    [InlineData("{\"drop_rate\": 2}", "drop_rate")]
    [InlineData("{\"latency_ms\": -1}", "latency_ms")]
    [InlineData("{\"reorder\": \"sometimes\"}", "body")]
    public async Task Faults_out_of_range_are_refused_naming_the_field(string body, string field)
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        using var response = await api.SendJsonAsync(HttpMethod.Put, "/control/faults", body);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        using var get = await api.GetAsync("/control/faults");
        Assert.Equal(0, (await get.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("create_error_rate").GetDouble());
    }

    private static async Task<System.Text.Json.JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var problem = await response.ReadJsonAsync(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }
}
