using System.Net;
using Tavus.Simulator.Tests.Infrastructure;

namespace Tavus.Simulator.Tests;

/// <summary>Every route, Tavus API and control alike, wants the configured <c>x-api-key</c>.</summary>
public sealed class ApiKeyTests
{
    public static TheoryData<string, string, string?> Routes() => new()
    {
        { "POST", "/v2/conversations", "{}" },
        { "GET", "/v2/conversations", null },
        { "GET", "/v2/conversations/{id}?verbose=true", null },
        { "POST", "/v2/conversations/{id}/end", null },
        { "DELETE", "/v2/conversations/{id}", null },
        { "POST", "/control/conversations/{id}/join", null },
        { "POST", "/control/conversations/{id}/leave", null },
        { "GET", "/control/conversations/{id}/deliveries", null },
        { "PUT", "/control/faults", "{\"create_error_rate\": 1}" },
        { "GET", "/control/faults", null },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_missing_key_is_401(string method, string path, string? body)
    {
        await AssertRefusedAsync(method, path, body, key: null);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_wrong_key_is_401(string method, string path, string? body)
    {
        await AssertRefusedAsync(method, path, body, key: "test-kez");
    }

    [Fact]
    public async Task A_key_that_only_starts_like_the_right_one_is_401()
    {
        await AssertRefusedAsync("GET", "/v2/conversations", null, key: SimulatorApp.ApiKey + "x");
    }

    [Fact]
    public async Task The_right_key_is_let_in_and_a_refusal_changes_nothing()
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        using var anonymous = app.CreateClient();

        using var refused = await anonymous.SendJsonAsync(HttpMethod.Post, "/v2/conversations", SimulatorClient.CreateBody().ToJsonString());
        using var listed = await api.GetAsync("/v2/conversations");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(0, (await listed.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("total_count").GetInt32());
    }

    private static async Task AssertRefusedAsync(string method, string path, string? body, string? key)
    {
        await using var app = new SimulatorApp();
        using var api = app.Api();
        var id = await api.CreateConversationIdAsync();
        using var client = app.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("x-api-key", key);
        }

        using var response = await client.SendJsonAsync(new HttpMethod(method), path.Replace("{id}", id, StringComparison.Ordinal), body);

        var error = await response.ReadJsonAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("Invalid access token", error.GetProperty("message").GetString());
        Assert.Equal("active", await api.StatusOfAsync(id));
        using var faults = await api.GetAsync("/control/faults");
        Assert.Equal(0, (await faults.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("create_error_rate").GetDouble());
    }
}
