using System.Net;
using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary>Listing, ending and deleting conversations through the Tavus API.</summary>
public sealed class ConversationLifecycleTests
{
    [Fact]
    public async Task Listing_pages_newest_first_and_filters_by_status()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await api.CreateConversationIdAsync());
            app.Advance(1);
        }

        await api.EndAsync(ids[0]);
        await api.EndAsync(ids[3]);

        var firstPage = await ListAsync(api, "?limit=2&page=1");
        var lastPage = await ListAsync(api, "?limit=2&page=3");
        var beyond = await ListAsync(api, "?limit=2&page=4");
        var all = await ListAsync(api, "");
        var ended = await ListAsync(api, "?status=ended");
        var active = await ListAsync(api, "?status=active&limit=1");

        Assert.Equal([ids[4], ids[3]], Ids(firstPage));
        Assert.Equal(5, firstPage.GetProperty("total_count").GetInt32());
        Assert.Equal([ids[0]], Ids(lastPage));
        Assert.Empty(Ids(beyond));
        Assert.Equal(Enumerable.Reverse(ids), Ids(all));
        Assert.Equal([ids[3], ids[0]], Ids(ended));
        Assert.Equal(2, ended.GetProperty("total_count").GetInt32());
        Assert.Equal([ids[4]], Ids(active));
        Assert.Equal(3, active.GetProperty("total_count").GetInt32());
        Assert.All(all.GetProperty("data").EnumerateArray(), c => Assert.False(c.TryGetProperty("events", out _)));
    }

    [Fact]
    public async Task Listing_defaults_to_ten_per_page()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        for (var i = 0; i < 12; i++)
        {
            await api.CreateConversationIdAsync();
        }

        var page = await ListAsync(api, "");

        Assert.Equal(10, page.GetProperty("data").GetArrayLength());
        Assert.Equal(12, page.GetProperty("total_count").GetInt32());
    }

    [Theory]
    [InlineData("?status=paused")]
    [InlineData("?limit=0")]
    [InlineData("?page=0")]
    public async Task Listing_with_a_bad_parameter_is_refused(string query)
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        using var response = await api.GetAsync($"/v2/conversations{query}");

        var error = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Ending_by_api_shuts_down_with_end_conversation_endpoint_hit()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        using var response = await api.PostAsync($"/v2/conversations/{id}/end", null);

        var answer = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("message").GetString()));
        Assert.Equal(Fixtures.ShutdownReason("shutdown_end_conversation_endpoint_hit.json"), await api.ShutdownReasonOfAsync(id));
        var callbacks = await app.Callbacks.WaitForAsync(2);
        Assert.Equal(
            "end_conversation_endpoint_hit",
            callbacks[0].Body.GetProperty("properties").GetProperty("shutdown_reason").GetString());
    }

    [Fact]
    public async Task Ending_an_ended_conversation_answers_200_and_sends_nothing_more()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 10 });
        app.Advance(10);

        using var response = await api.PostAsync($"/v2/conversations/{id}/end", null);

        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("participant_absent_timeout reached", await api.ShutdownReasonOfAsync(id));
        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], await api.EventTypesOfAsync(id));
        Assert.Equal(3, (await api.WaitForDeliveriesAsync(id, 3)).Length);
    }

    [Fact]
    public async Task A_deleted_conversation_is_gone()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        using var deleted = await api.DeleteAsync($"/v2/conversations/{id}?hard=true");
        using var get = await api.GetAsync($"/v2/conversations/{id}");
        using var deletedAgain = await api.DeleteAsync($"/v2/conversations/{id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("Conversation not found", (await get.ReadJsonAsync(HttpStatusCode.NotFound)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.StatusCode);
        Assert.Equal("daily_room_has_been_deleted", (await app.Callbacks.WaitForAsync(1))[0].Body.GetProperty("properties").GetProperty("shutdown_reason").GetString());
    }

    [Fact]
    public async Task Deleting_an_ended_conversation_sends_no_second_shutdown()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        var other = await api.CreateConversationIdAsync();
        await api.EndAsync(id);
        await api.WaitForDeliveriesAsync(id, 2);

        using var deleted = await api.DeleteAsync($"/v2/conversations/{id}");
        // A second shutdown would be queued by the DELETE itself; by the time another conversation's
        // callbacks have gone out it would almost surely have gone out too. (This can miss, never misfire.)
        await api.EndAsync(other);
        await api.WaitForDeliveriesAsync(other, 2);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var shutdowns = app.Callbacks.Requests.Where(c => c.EventType == "system.shutdown" && c.Body.GetProperty("conversation_id").GetString() == id);
        Assert.Equal("end_conversation_endpoint_hit", Assert.Single(shutdowns).Body.GetProperty("properties").GetProperty("shutdown_reason").GetString());
    }

    [Theory]
    [InlineData("GET", "/v2/conversations/c0123456789a")]
    [InlineData("POST", "/v2/conversations/c0123456789a/end")]
    [InlineData("DELETE", "/v2/conversations/c0123456789a")]
    public async Task An_unknown_conversation_is_404_with_tavus_error(string method, string path)
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        using var response = await api.SendJsonAsync(new HttpMethod(method), path, null);

        Assert.Equal("Conversation not found", (await response.ReadJsonAsync(HttpStatusCode.NotFound)).GetProperty("error").GetString());
    }

    private static async Task<System.Text.Json.JsonElement> ListAsync(HttpClient api, string query)
    {
        using var response = await api.GetAsync($"/v2/conversations{query}");
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    private static string[] Ids(System.Text.Json.JsonElement page) =>
        [.. page.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("conversation_id").GetString()!)];
}
