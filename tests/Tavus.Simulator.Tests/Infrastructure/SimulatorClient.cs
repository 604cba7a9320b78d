using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tavus.Simulator.Tests.Infrastructure;

/// <summary>The calls a test makes, over HTTP as the orchestrator would make them.</summary>
internal static class SimulatorClient
{
    public const string ReplicaId = "rf4e9d9790f0";
    public const string PersonaId = "p5317866";
    public const string Context = "The user is a new sales rep practising how to handle price objections on a discovery call.";

    /// <summary>A typical create body; <paramref name="configure"/> changes it.</summary>
    public static JsonObject CreateBody(JsonObject? properties = null, Action<JsonObject>? configure = null)
    {
        var body = new JsonObject
        {
            ["persona_id"] = PersonaId,
            ["replica_id"] = ReplicaId,
            ["callback_url"] = SimulatorApp.CallbackUrl,
            ["conversation_name"] = "Objection handling practice",
            ["conversational_context"] = Context,
            ["properties"] = properties ?? [],
        };
        configure?.Invoke(body);
        return body;
    }

    public static async Task<JsonElement> CreateConversationAsync(
        this HttpClient client, JsonObject? properties = null, Action<JsonObject>? configure = null)
    {
        using var response = await client.SendJsonAsync(HttpMethod.Post, "/v2/conversations", CreateBody(properties, configure).ToJsonString());
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<string> CreateConversationIdAsync(
        this HttpClient client, JsonObject? properties = null, Action<JsonObject>? configure = null) =>
        (await client.CreateConversationAsync(properties, configure)).GetProperty("conversation_id").GetString()!;

    public static async Task<JsonElement> GetConversationAsync(this HttpClient client, string id, bool verbose = false)
    {
        using var response = await client.GetAsync($"/v2/conversations/{id}{(verbose ? "?verbose=true" : "")}");
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<string> StatusOfAsync(this HttpClient client, string id) =>
        (await client.GetConversationAsync(id)).GetProperty("status").GetString()!;

    public static async Task<string?> ShutdownReasonOfAsync(this HttpClient client, string id) =>
        (await client.GetConversationAsync(id)).TryGetProperty("shutdown_reason", out var reason) ? reason.GetString() : null;

    /// <summary>The event types a conversation generated, from the verbose GET, in order.</summary>
    public static async Task<IReadOnlyList<string>> EventTypesOfAsync(this HttpClient client, string id)
    {
        var conversation = await client.GetConversationAsync(id, verbose: true);
        return [.. conversation.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_type").GetString()!)];
    }

    public static async Task EndAsync(this HttpClient client, string id)
    {
        using var response = await client.PostAsync($"/v2/conversations/{id}/end", null);
        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<JsonElement> JoinAsync(this HttpClient client, string id, string? participantId = null)
    {
        using var response = await client.SendJsonAsync(HttpMethod.Post, $"/control/conversations/{id}/join", ParticipantBody(participantId));
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<JsonElement> LeaveAsync(this HttpClient client, string id, string? participantId = null)
    {
        using var response = await client.SendJsonAsync(HttpMethod.Post, $"/control/conversations/{id}/leave", ParticipantBody(participantId));
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public static async Task SetFaultsAsync(this HttpClient client, string json)
    {
        using var response = await client.SendJsonAsync(HttpMethod.Put, "/control/faults", json);
        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public static async Task<JsonElement> DeliveriesAsync(this HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/control/conversations/{id}/deliveries");
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    /// <summary>Waits until the deliveries log of a conversation holds at least <paramref name="count"/> entries.</summary>
    public static async Task<JsonElement[]> WaitForDeliveriesAsync(this HttpClient client, string id, int count) =>
        await Eventually.WaitAsync(
            async () => (await client.DeliveriesAsync(id)).EnumerateArray().ToArray(),
            d => d.Length >= count,
            $"{count} deliveries of {id}");

    public static async Task<HttpResponseMessage> SendJsonAsync(this HttpClient client, HttpMethod method, string url, string? json)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(request);
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        if (text.Length == 0)
        {
            return default;
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    private static string? ParticipantBody(string? participantId) =>
        participantId is null ? null : new JsonObject { ["participant_id"] = participantId }.ToJsonString();
}
