using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Webhooks;

/// <summary>A Tavus callback body, as documented (see tests/Fixtures/callbacks).</summary>
/// <remarks>Only for the OpenAPI document; the handler reads the raw body.</remarks>
public sealed record TavusCallback(
    string ConversationId,
    string EventType,
    string? MessageType,
    JsonElement? Timestamp,
    long? Seq,
    string? WebhookUrl,
    JsonElement? Properties);

public sealed record WebhookAck(string Status);

/// <summary>
/// The 200 of a callback, <see cref="WebhookAck"/> as JSON: its two possible bodies are encoded
/// once, so the hot path serializes nothing.
/// </summary>
public sealed class WebhookAckResult : IResult, IEndpointMetadataProvider
{
    public static WebhookAckResult Recorded { get; } = new(new WebhookAck("recorded"));
    public static WebhookAckResult Duplicate { get; } = new(new WebhookAck("duplicate"));

    private readonly byte[] _body;

    private WebhookAckResult(WebhookAck ack) => _body = JsonSerializer.SerializeToUtf8Bytes(ack, Hosting.HostingExtensions.Json);

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = _body.Length;
        return response.Body.WriteAsync(_body).AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(WebhookAck), ["application/json"]));
    }
}

/// <summary>A parsed callback: what the timeline needs, with the raw parts kept.</summary>
public sealed record ParsedCallback(
    string ConversationId,
    string EventType,
    DateTime? Timestamp,
    long? Seq,
    JsonElement Properties,
    string PropertiesRaw,
    string DedupeKey)
{
    /// <summary>Parses a callback body; null with a reason when it is not one.</summary>
    public static ParsedCallback? Parse(JsonElement root, ReadOnlySpan<byte> body, out string? error)
    {
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "The body must be a JSON object.";
            return null;
        }
        if (!root.TryGetProperty("conversation_id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString()))
        {
            error = "conversation_id is missing.";
            return null;
        }
        if (!root.TryGetProperty("event_type", out var type) || type.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(type.GetString()))
        {
            error = "event_type is missing.";
            return null;
        }
        var timestamp = root.TryGetProperty("timestamp", out var ts) ? ParseTimestamp(ts) : null;
        long? seq = root.TryGetProperty("seq", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var n) ? n : null;
        var properties = root.TryGetProperty("properties", out var p) ? p : default;
        var propertiesRaw = properties.ValueKind == JsonValueKind.Undefined ? "{}" : properties.GetRawText();
        // Tavus sends no event id: seq where present, else the whole body identifies a delivery.
        var dedupeKey = seq is { } sequence
            ? $"seq:{sequence}"
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
        return new ParsedCallback(id.GetString()!, type.GetString()!, timestamp, seq, properties, propertiesRaw, dedupeKey);
    }

    /// <summary>ISO-8601 strings and Unix seconds with a fraction (<c>1752218165.123</c>) are both Tavus'.</summary>
    public static DateTime? ParseTimestamp(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetDouble(out var seconds):
                return DateTime.UnixEpoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
            case JsonValueKind.String:
                var text = value.GetString();
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    return parsed.UtcDateTime;
                }
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s))
                {
                    return DateTime.UnixEpoch.AddTicks((long)Math.Round(s * TimeSpan.TicksPerSecond));
                }
                return null;
            default:
                return null;
        }
    }

    public ConversationEvent ToEvent(string conversationKey, DateTime receivedAt) => new()
    {
        ConversationId = conversationKey,
        Kind = Lifecycle.KindOf(EventType),
        EventType = EventType,
        OccurredAt = Timestamp ?? receivedAt,
        ReceivedAt = receivedAt,
        Source = EventSource.Webhook,
        Properties = PropertiesRaw,
        Seq = Seq,
        DedupeKey = DedupeKey,
    };
}
