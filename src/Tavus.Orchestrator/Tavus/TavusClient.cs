using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly.Timeout;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Telemetry;

namespace Tavus.Orchestrator.Tavus;

/// <summary>The outbound Tavus API (or a simulator reached the same way).</summary>
public sealed class TavusClient(HttpClient http, OrchestratorMetrics metrics)
{
    /// <summary>Marks a request the resilience pipeline must not retry: it may have reached Tavus.</summary>
    public static readonly HttpRequestOptionsKey<bool> NoRetry = new("Tavus.NoRetry");

    /// <summary>Creates a conversation. Never retried: a second attempt could create a second call.</summary>
    public async Task<TavusConversation> CreateConversationAsync(JsonObject body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/conversations")
        {
            Content = JsonContent.Create(body, options: JsonFormats.Tavus),
        };
        request.Options.Set(NoRetry, true);
        return await SendAsync<TavusConversation>(request, cancellationToken)
            ?? throw new TavusException(TavusFailure.Unavailable, "Tavus answered the create without a body.");
    }

    public async Task<TavusConversation> GetConversationAsync(string conversationId, bool verbose, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"v2/conversations/{Uri.EscapeDataString(conversationId)}{(verbose ? "?verbose=true" : "")}");
        return await SendAsync<TavusConversation>(request, cancellationToken)
            ?? throw new TavusException(TavusFailure.Unavailable, "Tavus answered without a body.");
    }

    /// <summary>One page of Tavus' conversations, newest first.</summary>
    public async Task<TavusConversationPage> ListConversationsAsync(int page, int limit, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/conversations?limit={limit}&page={page}");
        return await SendAsync<TavusConversationPage>(request, cancellationToken)
            ?? throw new TavusException(TavusFailure.Unavailable, "Tavus answered without a body.");
    }

    /// <summary>Ends a conversation; safe to retry, ending twice ends once.</summary>
    public async Task EndConversationAsync(string conversationId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v2/conversations/{Uri.EscapeDataString(conversationId)}/end");
        await SendAsync<JsonElement>(request, cancellationToken);
    }

    /// <summary>Sends and times the call, by operation (create, get, list, end) and outcome (ok, or the failure).</summary>
    private async Task<T?> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken, [CallerMemberName] string caller = "")
    {
        var operation = caller.Replace("Async", "", StringComparison.Ordinal).Replace("Conversations", "", StringComparison.Ordinal)
            .Replace("Conversation", "", StringComparison.Ordinal).ToLowerInvariant();
        var started = Stopwatch.GetTimestamp();
        var outcome = "ok";
        try
        {
            return await SendCoreAsync<T>(request, cancellationToken);
        }
        catch (TavusException ex)
        {
            outcome = ex.Failure.ToString().ToLowerInvariant();
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            metrics.TavusCall(operation, outcome, Stopwatch.GetElapsedTime(started));
        }
    }

    private async Task<T?> SendCoreAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new TavusException(TavusFailure.Timeout, "Tavus did not answer within the configured timeout.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TavusException(TavusFailure.Timeout, "Tavus did not answer within the configured timeout.", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new TavusException(TavusFailure.Unavailable, $"Tavus could not be reached: {ex.Message}", ex);
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException ex)
        {
            throw new TavusException(TavusFailure.Unavailable, "Tavus failed repeatedly; calls are paused for a few seconds.", ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return string.IsNullOrWhiteSpace(text) ? default : Deserialize<T>(text);
            }
            var message = ErrorMessage(text) ?? $"Tavus answered {(int)response.StatusCode} {response.ReasonPhrase}.";
            throw response.StatusCode switch
            {
                HttpStatusCode.NotFound => new TavusException(TavusFailure.NotFound, message),
                HttpStatusCode.GatewayTimeout or HttpStatusCode.RequestTimeout => new TavusException(TavusFailure.Timeout, message),
                >= HttpStatusCode.InternalServerError => new TavusException(TavusFailure.Unavailable, $"Tavus answered {(int)response.StatusCode}: {message}"),
                _ when message.Contains("maximum concurrent conversations", StringComparison.OrdinalIgnoreCase) =>
                    new TavusException(TavusFailure.ConcurrencyLimit, message),
                _ => new TavusException(TavusFailure.Refused, message),
            };
        }
    }

    private static T? Deserialize<T>(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, JsonFormats.Tavus);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new TavusException(TavusFailure.Unavailable, "Tavus answered with a body that is not the expected JSON.", ex);
        }
    }

    /// <summary>Tavus puts its reason in <c>error</c> or <c>message</c>.</summary>
    private static string? ErrorMessage(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            foreach (var name in (string[])["error", "message", "detail"])
            {
                if (document.RootElement.ValueKind == JsonValueKind.Object &&
                    document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    return Hosting.TextRules.Read(value);
                }
            }
        }
        catch (JsonException)
        {
        }
        return string.IsNullOrWhiteSpace(body) ? null : body[..Math.Min(body.Length, 500)];
    }
}
