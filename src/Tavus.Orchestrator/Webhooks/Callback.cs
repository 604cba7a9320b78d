using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Webhooks;

/// <summary>A Tavus callback body, as documented (see tests/Fixtures/callbacks).</summary>
/// <remarks>Only for the OpenAPI document; the handler reads the raw body. A member with a default is optional there.</remarks>
public sealed record TavusCallback(
    string ConversationId,
    string EventType,
    string? MessageType = null,
    JsonElement? Timestamp = null,
    long? Seq = null,
    string? WebhookUrl = null,
    JsonElement? Properties = null);

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

    private WebhookAckResult(WebhookAck ack) => _body = JsonSerializer.SerializeToUtf8Bytes(ack, Hosting.JsonFormats.Http);

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
    byte[]? PropertiesUtf8,
    string DedupeKey)
{
    /// <summary>Unix seconds of 9999-12-31T23:59:59Z, the last second a <see cref="DateTime"/> holds.</summary>
    private const double MaxUnixSeconds = 253_402_300_799;

    /// <summary>Parses a callback body; null with a reason, naming the field, when it is not one.</summary>
    public static ParsedCallback? Parse(JsonElement root, ReadOnlySpan<byte> body, out string? error)
    {
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "The body must be a JSON object.";
            return null;
        }
        // Both are stored as they are (our columns hold 64 and 128 characters).
        var conversationId = Identifier(root, "conversation_id", 64, ref error);
        var eventType = Identifier(root, "event_type", 128, ref error);
        if (conversationId is null || eventType is null)
        {
            return null;
        }
        DateTime? timestamp = null;
        if (root.TryGetProperty("timestamp", out var ts) && ts.ValueKind != JsonValueKind.Null)
        {
            timestamp = ParseTimestamp(ts);
            if (timestamp is null)
            {
                error = "timestamp must be an ISO-8601 time or Unix seconds between 1970 and 9999.";
                return null;
            }
        }
        long? seq = null;
        if (root.TryGetProperty("seq", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var n) || n < 0)
            {
                error = "seq must be a whole number from 0 to 2^63-1.";
                return null;
            }
            seq = n;
        }
        var properties = root.TryGetProperty("properties", out var p) ? p : default;
        if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("shutdown_reason", out var reason) &&
            reason.ValueKind == JsonValueKind.String && TextRules.ReadStorable(reason, 1000) is null)
        {
            error = "properties.shutdown_reason must be at most 1000 characters without control characters.";
            return null;
        }
        // As sent, escapes and all (the parse checked it is UTF-8), and not decoded to UTF-16 here;
        // none sent is the event's default, {}.
        var propertiesUtf8 = properties.ValueKind == JsonValueKind.Undefined ? null : JsonMarshal.GetRawUtf8Value(properties).ToArray();
        // Tavus sends no event id: seq where present, else the whole body identifies a delivery.
        var dedupeKey = seq is { } sequence
            ? $"seq:{sequence}"
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
        return new ParsedCallback(conversationId, eventType, timestamp, seq, properties, propertiesUtf8, dedupeKey);
    }

    private static string? Identifier(JsonElement root, string name, int maxLength, ref string? error)
    {
        if (root.TryGetProperty(name, out var value) && TextRules.ReadStorable(value, maxLength) is { Length: > 0 } text)
        {
            return text;
        }
        error ??= $"{name} is missing, or not a string of 1 to {maxLength} printable characters.";
        return null;
    }

    /// <summary>
    /// ISO-8601 strings and Unix seconds with a fraction (<c>1752218165.123</c>) are both Tavus';
    /// null for anything else, and for seconds outside 1970–9999 (<c>1e300</c> is no time).
    /// </summary>
    public static DateTime? ParseTimestamp(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when value.TryGetDouble(out var seconds):
                return FromUnixSeconds(seconds);
            case JsonValueKind.String:
                var text = TextRules.Read(value);
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    return parsed.UtcDateTime;
                }
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? FromUnixSeconds(s) : null;
            default:
                return null;
        }
    }

    private static DateTime? FromUnixSeconds(double seconds) =>
        seconds is >= 0 and <= MaxUnixSeconds
            ? DateTime.UnixEpoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond))
            : null;

    public ConversationEvent ToEvent(string conversationKey, DateTime receivedAt) => new()
    {
        ConversationId = conversationKey,
        Kind = Lifecycle.KindOf(EventType),
        EventType = EventType,
        OccurredAt = Timestamp ?? receivedAt,
        ReceivedAt = receivedAt,
        Source = EventSource.Webhook,
        PropertiesUtf8 = PropertiesUtf8,
        Seq = Seq,
        DedupeKey = DedupeKey,
    };
}
