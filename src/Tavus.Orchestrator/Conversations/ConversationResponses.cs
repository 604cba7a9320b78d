using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Conversations;

public sealed record ConversationProperties(int MaxCallDuration, int ParticipantLeftTimeout, int ParticipantAbsentTimeout);

/// <summary>A conversation as a frontend sees it.</summary>
public record ConversationResponse
{
    public required string ConversationId { get; init; }
    public required string TenantId { get; init; }
    public string? ConversationName { get; init; }
    public string? ConversationUrl { get; init; }
    public required ConversationStatus Status { get; init; }
    public required ConversationProperties Properties { get; init; }
    public required IReadOnlyList<Adjustment> Adjustments { get; init; }
    public required DateTime CreatedAt { get; init; }
    public required DateTime DeadlineAt { get; init; }
    public DateTime? EndedAt { get; init; }
    public string? EndReason { get; init; }

    public static ConversationResponse From(Conversation c) => new()
    {
        ConversationId = c.PublicId,
        TenantId = c.TenantId,
        ConversationName = c.ConversationName,
        ConversationUrl = c.ConversationUrl,
        Status = c.Status,
        Properties = new ConversationProperties(c.MaxCallDuration, c.ParticipantLeftTimeout, c.ParticipantAbsentTimeout),
        Adjustments = c.Adjustments,
        CreatedAt = c.CreatedAt,
        DeadlineAt = c.DeadlineAt,
        EndedAt = c.EndedAt,
        EndReason = c.EndReason,
    };
}

/// <summary>A conversation with its timeline and what arrived after the end.</summary>
public sealed record ConversationDetailsResponse : ConversationResponse
{
    /// <summary>Tavus' raw shutdown_reason, kept as sent.</summary>
    public string? ShutdownReason { get; init; }
    public string? FailureDetail { get; init; }
    public required IReadOnlyList<EventResponse> Events { get; init; }
    public JsonElement? Transcript { get; init; }
    public JsonElement? Recording { get; init; }
    public JsonElement? PerceptionAnalysis { get; init; }

    /// <summary>Copies the summary's fields; the details add to them.</summary>
    [SetsRequiredMembers]
    private ConversationDetailsResponse(ConversationResponse summary)
        : base(summary)
    {
        Events = [];
    }

    public static ConversationDetailsResponse From(Conversation c, IReadOnlyList<ConversationEvent> events)
    {
        var (transcript, recording, perception) = Lifecycle.Artifacts(events);
        return new(ConversationResponse.From(c))
        {
            ShutdownReason = c.ShutdownReason,
            FailureDetail = c.FailureDetail,
            Events = events.Select(EventResponse.From).ToList(),
            Transcript = transcript,
            Recording = recording,
            PerceptionAnalysis = perception,
        };
    }
}

/// <summary>One entry of the timeline.</summary>
public sealed record EventResponse(
    EventKind Kind,
    string EventType,
    DateTime OccurredAt,
    DateTime ReceivedAt,
    EventSource Source,
    JsonElement Properties)
{
    public static EventResponse From(ConversationEvent e) =>
        new(e.Kind, e.EventType, e.OccurredAt, e.ReceivedAt, e.Source, JsonSerializer.Deserialize<JsonElement>(e.Properties));
}

public sealed record ConversationPage(IReadOnlyList<ConversationResponse> Data, string? NextCursor);
