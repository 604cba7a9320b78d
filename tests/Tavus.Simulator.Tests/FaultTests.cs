using System.Diagnostics;
using System.Net;
using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary>Injected faults: what a receiver of a real Tavus must survive.</summary>
public sealed class FaultTests
{
    [Fact]
    public async Task A_create_error_rate_of_1_fails_every_create_and_creates_nothing()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        await api.SetFaultsAsync("{\"create_error_rate\": 1}");

        using var failed = await api.SendJsonAsync(HttpMethod.Post, "/v2/conversations", SimulatorClient.CreateBody().ToJsonString());
        using var list = await api.GetAsync("/v2/conversations");

        Assert.Equal("Internal server error", (await failed.ReadJsonAsync(HttpStatusCode.InternalServerError)).GetProperty("error").GetString());
        Assert.Equal(0, (await list.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("total_count").GetInt32());

        await api.SetFaultsAsync("{}");
        await api.CreateConversationIdAsync();
    }

    [Fact]
    public async Task A_drop_rate_of_1_sends_nothing_and_logs_every_callback_as_dropped()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        await api.SetFaultsAsync("{\"drop_rate\": 1}");
        var id = await api.CreateConversationIdAsync();
        app.Advance(2);

        await api.EndAsync(id);

        var deliveries = await api.WaitForDeliveriesAsync(id, 3);
        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], deliveries.Select(d => d.GetProperty("event_type").GetString()));
        Assert.All(deliveries, d =>
        {
            Assert.True(d.GetProperty("dropped").GetBoolean());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, d.GetProperty("status_code").ValueKind);
            Assert.Equal(d.GetProperty("event_type").GetString(), d.GetProperty("body").GetProperty("event_type").GetString());
        });
        // Deliveries are logged in send order, so once the last drop is logged nothing else can still be on its way.
        Assert.Empty(app.Callbacks.Requests);
    }

    [Fact]
    public async Task A_duplicate_rate_of_1_sends_every_callback_twice()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        await api.SetFaultsAsync("{\"duplicate_rate\": 1}");
        var id = await api.CreateConversationIdAsync();
        app.Advance(2);

        await api.EndAsync(id);

        var callbacks = await app.Callbacks.WaitForAsync(6);
        Assert.Equal(
            ["system.replica_joined", "system.replica_joined", "system.shutdown", "system.shutdown", "application.transcription_ready", "application.transcription_ready"],
            callbacks.Select(c => c.EventType));
        Assert.Equal(callbacks[2].Body.GetRawText(), callbacks[3].Body.GetRawText());
        var deliveries = await api.WaitForDeliveriesAsync(id, 6);
        Assert.Equal([false, true, false, true, false, true], deliveries.Select(d => d.GetProperty("duplicate").GetBoolean()));
        Assert.All(deliveries, d => Assert.Equal(200, d.GetProperty("status_code").GetInt32()));
    }

    [Fact]
    public async Task Reorder_holds_callbacks_until_the_end_and_delivers_them_in_reverse()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        await api.SetFaultsAsync("{\"reorder\": true}");
        var id = await api.CreateConversationIdAsync(new() { ["enable_recording"] = true });
        app.Advance(2);
        Assert.Equal(["system.replica_joined"], await api.EventTypesOfAsync(id));
        Assert.Empty((await api.DeliveriesAsync(id)).EnumerateArray());

        await api.EndAsync(id);

        var callbacks = await app.Callbacks.WaitForAsync(4);
        Assert.Equal(
            ["application.recording_ready", "application.transcription_ready", "system.shutdown", "system.replica_joined"],
            callbacks.Select(c => c.EventType));
    }

    [Fact]
    public async Task Latency_delays_the_answers_of_the_tavus_api()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        await api.SetFaultsAsync("{\"latency_ms\": 300}");

        var stopwatch = Stopwatch.StartNew();
        using var response = await api.GetAsync("/v2/conversations");
        stopwatch.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(stopwatch.ElapsedMilliseconds >= 290, $"answered after {stopwatch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Latency_is_wall_clock_time_so_a_client_timeout_fires_while_the_fake_clock_stands_still()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        await api.SetFaultsAsync("{\"latency_ms\": 2000}");
        using var impatient = app.CreateClient();
        impatient.DefaultRequestHeaders.Add("x-api-key", SimulatorApp.ApiKey);
        impatient.Timeout = TimeSpan.FromMilliseconds(100);

        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.GetAsync("/v2/conversations"));
    }

    [Fact]
    public async Task A_seed_makes_the_faults_repeat()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();

        var first = await DropPatternAsync(api);
        var second = await DropPatternAsync(api);

        Assert.Equal(first, second);
        Assert.Contains(true, first);
        Assert.Contains(false, first);
    }

    private static async Task<bool[]> DropPatternAsync(HttpClient api)
    {
        await api.SetFaultsAsync("{\"drop_rate\": 0.5, \"seed\": 7}");
        var pattern = new List<bool>();
        for (var i = 0; i < 6; i++)
        {
            var id = await api.CreateConversationIdAsync();
            await api.EndAsync(id);
            pattern.AddRange((await api.WaitForDeliveriesAsync(id, 2)).Select(d => d.GetProperty("dropped").GetBoolean()));
        }

        return [.. pattern];
    }
}
