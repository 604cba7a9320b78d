using System.Net.Http.Json;
using System.Text.Json;

namespace Tavus.Orchestrator.Tests;

/// <summary>What an answer must be (below 500, a bounded ProblemDetails refusal), and the service still ready after the run.</summary>
public sealed partial class HostileInputTests
{
    private sealed record Answer(int Status, string? MediaType, byte[] Body, TimeSpan Elapsed);

    /// <summary>What is wrong with an answer, if anything.</summary>
    private static IEnumerable<string> Problems(HostileRequest request, Answer answer)
    {
        if (answer.Elapsed > AnswerBound)
        {
            yield return "answered after the bound";
        }
        if (answer.Status >= 500)
        {
            yield return "5xx";
            yield break;
        }
        if (answer.Status < 400)
        {
            yield break;
        }
        if (answer.Body.Length > MaxRefusalBytes)
        {
            yield return $"a refusal over {MaxRefusalBytes / 1024} KiB";
        }
        if (answer.Body.Length == 0)
        {
            // The contract lets an auth failure to a client that accepts no JSON go without a body.
            var accept = request.Headers.Where(h => h.Name == "Accept").Select(h => h.Value).FirstOrDefault();
            if (!(answer.Status is 401 or 403 && !AcceptsJson(accept)))
            {
                yield return "a refusal with an empty body";
            }
            yield break;
        }
        if (ParseJson(answer.Body) is not { } json)
        {
            yield return $"a refusal that is not JSON ({answer.MediaType ?? "no Content-Type"})";
            yield break;
        }
        // The simulator answers like Tavus ({"error": …} or {"message": …}), not with ProblemDetails.
        if (request.Operation.Template.StartsWith("/tavus-sim/", StringComparison.Ordinal) && json.ValueKind == JsonValueKind.Object &&
            (json.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ||
             json.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String))
        {
            yield break;
        }
        if (answer.MediaType != "application/problem+json")
        {
            yield return $"a refusal as {answer.MediaType ?? "no Content-Type"}, not application/problem+json";
        }
        if (json.ValueKind != JsonValueKind.Object || !json.TryGetProperty("status", out var status) ||
            status.ValueKind != JsonValueKind.Number || !status.TryGetInt32(out var value) || value != answer.Status)
        {
            yield return "ProblemDetails whose status is not the HTTP status";
        }
    }

    private static JsonElement? ParseJson(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool AcceptsJson(string? accept) =>
        string.IsNullOrEmpty(accept) || accept.Contains("json", StringComparison.OrdinalIgnoreCase) ||
        accept.Contains("*/*", StringComparison.Ordinal) || accept.Contains("application/*", StringComparison.OrdinalIgnoreCase);

    private async Task CheckStillReadyAsync()
    {
        using var timeout = new CancellationTokenSource(AnswerBound);
        var ready = await _client.GetAsync("/health/ready", timeout.Token);
        if (!ready.IsSuccessStatusCode)
        {
            _findings["/health/ready"] = new Finding("GET /health/ready", $"not ready after the run: {(int)ready.StatusCode}", null, "", null, null);
        }
        // The callbacks the simulator sent, as Tavus would, were answered below 500 too.
        using var simulator = _factory.CreateSimulatorClient();
        for (var i = 0; i < Real.Conversations; i++)
        {
            var deliveries = await simulator.GetFromJsonAsync<JsonElement>($"control/conversations/{_real[Real.Conversation(i)]}/deliveries", timeout.Token);
            foreach (var delivery in deliveries.EnumerateArray())
            {
                if (delivery.GetProperty("status_code") is { ValueKind: JsonValueKind.Number } code && code.GetInt32() >= 500)
                {
                    _findings[$"delivery {i} {delivery.Str("event_type")}"] = new Finding("POST /webhook (the simulator's own callback)",
                        $"{code.GetInt32()} to Tavus' {delivery.Str("event_type")}", null, "", null, null);
                }
            }
        }
    }
}
