using System.Net;
using System.Text.Json;
using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary>
/// An ended conversation is forgotten <c>Simulator:RetainEndedSeconds</c> (simulated) after its end,
/// so that a simulator under steady load does not keep every conversation it ever made.
/// </summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task An_ended_conversation_is_forgotten_the_retention_after_it_ended()
    {
        await using var app = new SimulatorApp(("Simulator:RetainEndedSeconds", "600"));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60 });
        app.Advance(60);
        await api.WaitForDeliveriesAsync(id, 3);

        app.Advance(599.999);
        Assert.Equal("ended", await api.StatusOfAsync(id));
        Assert.Equal([id], Ids(await ListAsync(api, "")));

        app.Advance(0.001);
        using var get = await api.GetAsync($"/v2/conversations/{id}?verbose=true");
        using var deliveries = await api.GetAsync($"/control/conversations/{id}/deliveries");
        using var end = await api.PostAsync($"/v2/conversations/{id}/end", null);
        Assert.Equal("Conversation not found", (await get.ReadJsonAsync(HttpStatusCode.NotFound)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, deliveries.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, end.StatusCode);
        var list = await ListAsync(api, "");
        Assert.Empty(Ids(list));
        Assert.Equal(0, list.GetProperty("total_count").GetInt32());
    }

    [Fact]
    public async Task Live_conversations_are_kept_however_long_they_run()
    {
        await using var app = new SimulatorApp(("Simulator:RetainEndedSeconds", "0"));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["max_call_duration"] = 3600 });
        await api.JoinAsync(id);

        app.Advance(3599.999);

        Assert.Equal("active", await api.StatusOfAsync(id));
        Assert.Equal([id], Ids(await ListAsync(api, "?status=active")));
    }

    [Fact]
    public async Task Each_ended_conversation_is_forgotten_on_its_own_schedule()
    {
        await using var app = new SimulatorApp(("Simulator:RetainEndedSeconds", "100"));
        using var api = app.Api();
        var first = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 10 });
        var second = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 50 });
        var live = await api.CreateConversationIdAsync(new() { ["max_call_duration"] = 3600 });
        await api.JoinAsync(live);
        app.Advance(30);
        await api.EndAsync(live);

        app.Advance(80);   // 110: the first ended at 10
        Assert.Equal([live, second], Ids(await ListAsync(api, "")));

        app.Advance(20);   // 130: the one ended by the API at 30
        Assert.Equal([second], Ids(await ListAsync(api, "")));

        app.Advance(20);   // 150: the second ended at 50
        Assert.Empty(Ids(await ListAsync(api, "")));
    }

    [Fact]
    public async Task Retention_counts_simulated_seconds_so_the_time_scale_shortens_it()
    {
        // The default retention, 3600 simulated seconds: one real minute at a time scale of 60.
        await using var app = new SimulatorApp(("Simulator:TimeScale", "60"));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60 });

        app.Time.Advance(TimeSpan.FromMilliseconds(1000 + 59_999));
        Assert.Equal("ended", await api.StatusOfAsync(id));

        app.Time.Advance(TimeSpan.FromMilliseconds(1));
        using var get = await api.GetAsync($"/v2/conversations/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task A_test_mode_conversation_born_ended_is_forgotten_too()
    {
        await using var app = new SimulatorApp(("Simulator:RetainEndedSeconds", "60"));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(configure: body => body["test_mode"] = true);

        app.Advance(59.999);
        Assert.Equal("ended", await api.StatusOfAsync(id));

        app.Advance(0.001);
        using var get = await api.GetAsync($"/v2/conversations/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Retention_counts_from_the_end_not_from_when_a_late_timer_applied_it()
    {
        await using var app = new SimulatorApp(("Simulator:RetainEndedSeconds", "100"));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync(new() { ["participant_absent_timeout"] = 60 });

        // One jump: the end (at 60) is applied at 3600, when its forgetting is long overdue;
        // the forget timer is then armed for the next millisecond, not for 3700.
        app.Advance(3600);
        app.Advance(0.001);

        using var get = await api.GetAsync($"/v2/conversations/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task A_retention_of_zero_forgets_at_the_end_but_still_sends_the_callbacks()
    {
        await using var app = new SimulatorApp(("Simulator:RetainEndedSeconds", "0"));
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();

        await api.EndAsync(id);
        app.Advance(0.001);

        using var get = await api.GetAsync($"/v2/conversations/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        var callbacks = await app.Callbacks.WaitForAsync(2);
        Assert.Equal(["system.shutdown", "application.transcription_ready"], callbacks.Select(c => c.EventType));
    }

    [Fact]
    public async Task Forgotten_conversations_no_longer_count_and_new_ones_are_created_as_before()
    {
        await using var app = new SimulatorApp(("Simulator:RetainEndedSeconds", "10"), ("Simulator:MaxConcurrentConversations", "1"));
        using var api = app.Api();
        for (var i = 0; i < 3; i++)
        {
            var id = await api.CreateConversationIdAsync();
            await api.EndAsync(id);
            app.Advance(10);
        }

        var kept = await api.CreateConversationIdAsync();

        Assert.Equal([kept], Ids(await ListAsync(api, "")));
    }

    private static async Task<JsonElement> ListAsync(HttpClient api, string query)
    {
        using var response = await api.GetAsync($"/v2/conversations{query}");
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    private static string[] Ids(JsonElement page) =>
        [.. page.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("conversation_id").GetString()!)];
}
