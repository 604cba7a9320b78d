using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary>The simulator as a library mounted in another host, and its start-up checks.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task Mounted_under_a_prefix_it_answers_in_its_own_json_whatever_the_host_configured()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration["Simulator:ApiKey"] = SimulatorApp.ApiKey;
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.KebabCaseUpper;
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never;
        });
        var time = new FakeTimeProvider();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddProblemDetails();
        builder.Services.AddTavusSimulator();
        var capturing = new CapturingHandler();
        builder.Services.AddHttpClient(SimulatorDefaults.CallbackHttpClientName).ConfigurePrimaryHttpMessageHandler(() => capturing);
        await using var app = builder.Build();
        app.MapTavusSimulator("/tavus-sim");
        await app.StartAsync();
        using var api = app.GetTestClient();
        api.DefaultRequestHeaders.Add("x-api-key", SimulatorApp.ApiKey);

        using var created = await api.SendJsonAsync(HttpMethod.Post, "/tavus-sim/v2/conversations", SimulatorClient.CreateBody().ToJsonString());
        using var unprefixed = await api.GetAsync("/v2/conversations");
        using var faults = await api.GetAsync("/tavus-sim/control/faults");

        var conversation = await created.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(
            ["conversation_id", "conversation_name", "conversation_url", "status", "callback_url", "replica_id", "persona_id", "created_at"],
            conversation.EnumerateObject().Select(p => p.Name));
        Assert.Equal(HttpStatusCode.NotFound, unprefixed.StatusCode);
        Assert.True((await faults.ReadJsonAsync(HttpStatusCode.OK)).TryGetProperty("drop_rate", out _));

        var id = conversation.GetProperty("conversation_id").GetString()!;
        using var end = await api.PostAsync($"/tavus-sim/v2/conversations/{id}/end", null);
        Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        var callbacks = await capturing.WaitForAsync(2);
        Fixtures.AssertSameShape(Fixtures.Callback("shutdown_end_conversation_endpoint_hit.json"), callbacks[0].Body);
        await app.StopAsync();
    }

    [Theory]
    [InlineData("Simulator:TimeScale", "0")]
    [InlineData("Simulator:MaxConcurrentConversations", "0")]
    [InlineData("Simulator:ReplicaJoinDelaySeconds", "-1")]
    [InlineData("Simulator:RetainEndedSeconds", "-1")]
    [InlineData("Simulator:RoomBaseUrl", "not a url")]
    [InlineData("Simulator:ApiKey", "")]
    public async Task A_bad_setting_stops_the_start_and_names_itself(string key, string value)
    {
        // A host of its own rather than the factory: a factory whose app dies in Main races its own disposal.
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration[key] = value;
        builder.Services.AddTavusSimulator();
        await using var app = builder.Build();
        app.MapTavusSimulator();

        var error = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(key["Simulator:".Length..], error.Message, StringComparison.Ordinal);
    }
}
