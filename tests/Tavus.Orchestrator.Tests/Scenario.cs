using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Web;

namespace Tavus.Orchestrator.Tests;

/// <summary>Steps a frontend, an operator or Tavus takes, shared by the tests.</summary>
public static class Scenario
{
    public static object CreateBody(object? properties = null) => new
    {
        persona_id = "pcb7a34da5fe",
        replica_id = "rf4e9d9790f0",
        conversation_name = "Improve Sales Technique",
        conversational_context = "I want to improve my sales techniques.",
        properties,
    };

    public static async Task<JsonElement> CreateConversationAsync(this HttpClient tenant, object? properties = null)
    {
        var response = await tenant.PostAsJsonAsync("/conversations", CreateBody(properties), Json.Options);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    public static async Task<JsonElement> GetConversationAsync(this HttpClient tenant, string id)
    {
        var response = await tenant.GetAsync($"/conversations/{id}");
        response.EnsureSuccessStatusCode();
        return await response.ReadJsonAsync();
    }

    /// <summary>Polls (in real time, bounded) until the conversation satisfies the condition.</summary>
    public static async Task<JsonElement> WaitForConversationAsync(this HttpClient tenant, string id, Func<JsonElement, bool> condition, string what)
    {
        // Not found yet is "not yet" too: a conversation can become visible under this id later.
        var found = await Eventually.WaitAsync(async () =>
        {
            var response = await tenant.GetAsync($"/conversations/{id}");
            return response.IsSuccessStatusCode ? await response.ReadJsonAsync() : (JsonElement?)null;
        }, c => c is { } conversation && condition(conversation), $"conversation {id} to reach {what}");
        return found!.Value;
    }

    public static Task<JsonElement> WaitForStatusAsync(this HttpClient tenant, string id, string status) =>
        tenant.WaitForConversationAsync(id, c => c.Str("status") == status, $"status {status}");

    /// <summary>The callback URL the orchestrator gave Tavus, read back from the simulator like Tavus would hold it.</summary>
    public static async Task<string> CallbackUrlAsync(this OrchestratorFactory factory, string conversationId)
    {
        using var simulator = factory.CreateSimulatorClient();
        var conversation = await simulator.GetFromJsonAsync<JsonElement>($"v2/conversations/{conversationId}");
        return conversation.Str("callback_url");
    }

    public static async Task<string> CallbackTokenAsync(this OrchestratorFactory factory, string conversationId) =>
        HttpUtility.ParseQueryString(new Uri(await factory.CallbackUrlAsync(conversationId)).Query)["token"]!;

    /// <summary>Posts a fixture body to /webhook for the given conversation; only conversation_id is replaced.</summary>
    public static async Task<HttpResponseMessage> PostFixtureAsync(this HttpClient client, string fixture, string conversationId, string token)
    {
        var body = JsonNode.Parse(Json.Fixture(fixture))!.AsObject();
        body["conversation_id"] = conversationId;
        return await client.PostAsync($"/webhook?token={Uri.EscapeDataString(token)}",
            new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
    }

    public static async Task SimulatorControlAsync(this OrchestratorFactory factory, string conversationId, string action)
    {
        using var simulator = factory.CreateSimulatorClient();
        var response = await simulator.PostAsync($"control/conversations/{conversationId}/{action}", null);
        response.EnsureSuccessStatusCode();
    }
}
