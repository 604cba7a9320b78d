using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tavus.Orchestrator.Notifications;

/// <summary>A tenant's endpoint: where to send, which types (all when left out), and whether to send at all.</summary>
public sealed record NotificationEndpointRequest(string? Url, IReadOnlyList<string>? EventTypes, bool? Enabled);

/// <summary>The endpoint, never its secret — except once, in the answer to the <c>PUT</c> that created it.</summary>
public sealed record NotificationEndpointResponse(
    string Url,
    IReadOnlyList<string>? EventTypes,
    bool Enabled,
    string? DisabledReason,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? PreviousSecretExpiresAt)
{
    /// <summary><c>whsec_…</c>: shown once, when the endpoint is first set.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }

    public static NotificationEndpointResponse From(NotificationEndpoint e, DateTime now, string? secret = null) =>
        new(e.Url, e.EventTypes is null ? null : JsonSerializer.Deserialize<string[]>(e.EventTypes), e.Enabled, e.DisabledReason,
            e.CreatedAt, e.UpdatedAt, e.PreviousSecretExpiresAt > now ? e.PreviousSecretExpiresAt : null)
        { Secret = secret };
}

/// <summary>The new secret after a rotation; the old one still signs for 24 h.</summary>
public sealed record NotificationSecretResponse(string Secret, DateTime PreviousSecretExpiresAt);

public sealed record NotificationAttemptResponse(int Number, DateTime AttemptedAt, int? StatusCode, string? Error, int DurationMs)
{
    public static NotificationAttemptResponse From(NotificationAttempt a) => new(a.Number, a.AttemptedAt, a.StatusCode, a.Error, a.DurationMs);
}

/// <summary>A message with its attempts; <c>id</c> is its <c>webhook-id</c>.</summary>
public sealed record NotificationMessageResponse(
    string Id,
    string TenantId,
    string Type,
    string ConversationId,
    MessageStatus Status,
    DateTime CreatedAt,
    DateTime? NextAttemptAt,
    DateTime? DeliveredAt,
    IReadOnlyList<NotificationAttemptResponse> Attempts);

public sealed record NotificationMessagePage(IReadOnlyList<NotificationMessageResponse> Data, string? NextCursor);

/// <summary>Failed messages created from since to until (inclusive) are sent again; until defaults to now, since at most 14 days back.</summary>
public sealed record RecoverRequest(DateTime? Since, DateTime? Until);

public sealed record RecoverResponse(int Count);
