using System.Text.Json;

namespace Tavus.Orchestrator.Conversations;

/// <summary>How Tavus' events move a conversation: created → active → ended, ended final.</summary>
public static class Lifecycle
{
    public static EventKind KindOf(string eventType) => eventType switch
    {
        "system.replica_joined" => EventKind.ReplicaJoined,
        "system.shutdown" => EventKind.Ended,
        "application.transcription_ready" => EventKind.TranscriptionReady,
        "application.recording_ready" => EventKind.RecordingReady,
        "application.perception_analysis" or "conversation.perception_analysis" => EventKind.PerceptionAnalysis,
        _ => EventKind.Unknown,
    };

    /// <summary>Where an event stands in a call's life: joined, asked to end, ended, then what comes after the end.</summary>
    public static int Rank(EventKind kind) => kind switch
    {
        EventKind.ReplicaJoined => 0,
        EventKind.EndRequested => 1,
        EventKind.Ended => 2,
        EventKind.Unknown => 2,
        _ => 3,
    };

    /// <summary>
    /// The conversations that count against their tenant's cap: those not ended and not failed
    /// (a pending one may exist at Tavus).
    /// </summary>
    public static IReadOnlyList<ConversationStatus> LiveStatuses { get; } =
        [ConversationStatus.Pending, ConversationStatus.Created, ConversationStatus.Active];

    /// <summary>
    /// A conversation's timeline by occurred_at. Tavus stamps an end and what follows it
    /// (transcript, recording) alike at times, so ties go by <see cref="Rank"/>, then by arrival.
    /// </summary>
    public static List<ConversationEvent> InTimelineOrder(IEnumerable<ConversationEvent> events) =>
        [.. events.OrderBy(e => e.OccurredAt).ThenBy(e => Rank(e.Kind)).ThenBy(e => e.Id)];

    /// <summary>
    /// The status an event leaves its conversation in, whatever order events arrive in: <c>ended</c>
    /// is final; <c>replica_joined</c> moves a pending or created conversation (or one failed whose
    /// callback proves Tavus made it) to active; a conversation adopted from a lost create answer
    /// (<paramref name="adopts"/>: the event brings Tavus' id) is created.
    /// </summary>
    public static ConversationStatus StatusAfter(ConversationStatus current, EventKind kind, bool adopts) => (current, kind) switch
    {
        (ConversationStatus.Ended, _) or (_, EventKind.Ended) => ConversationStatus.Ended,
        (ConversationStatus.Pending or ConversationStatus.Created, EventKind.ReplicaJoined) => ConversationStatus.Active,
        (ConversationStatus.Failed, EventKind.ReplicaJoined) when adopts => ConversationStatus.Active,
        (ConversationStatus.Pending or ConversationStatus.Failed, _) when adopts => ConversationStatus.Created,
        _ => current,
    };

    /// <summary>
    /// What a stored event does to its conversation: Tavus' id adopted when it has none, the status
    /// (<see cref="StatusAfter"/>), an end's time and reasons (<see cref="EffectOf"/>), and the time
    /// it was last heard from. <see cref="ApplySql"/> is the same, as the event writer runs it in the
    /// event's commit (LifecycleRulesTests holds the two together).
    /// </summary>
    public static void Apply(Conversation conversation, EventWrite write)
    {
        var e = write.Event;
        conversation.Status = StatusAfter(conversation.Status, e.Kind, write.AdoptTavusId is not null);
        conversation.TavusId ??= write.AdoptTavusId;
        if (e.Kind == EventKind.Ended)
        {
            conversation.EndedAt = e.OccurredAt;
            conversation.EndReason = write.Effect.EndReason;
            conversation.ShutdownReason = write.Effect.ShutdownReason;
        }
        if (conversation.LastEventAt is null || conversation.LastEventAt < e.ReceivedAt)
        {
            conversation.LastEventAt = e.ReceivedAt;
        }
    }

    /// <summary>
    /// Whether <see cref="Apply"/> can change more than <c>LastEventAt</c>: the event writer notes the
    /// others (utterances, unknown types) once per batch, not once each.
    /// </summary>
    public static bool MovesConversation(EventWrite write) =>
        write.Event.Kind is EventKind.ReplicaJoined or EventKind.Ended || write.AdoptTavusId is not null || write.Effect != EventEffect.None;

    /// <summary>
    /// <see cref="Apply"/> in SQL, run by both event stores (<c>Data/EventBatchSession.cs</c>).
    /// Parameters: <c>@conversation</c>, <c>@adopt</c>, <c>@kind</c> (<see cref="EventKind"/> name),
    /// <c>@occurred</c>, <c>@received</c>, <c>@endReason</c>, <c>@shutdownReason</c>.
    /// </summary>
    public const string ApplySql = """
        UPDATE "Conversations" SET
            "TavusId" = COALESCE("TavusId", @adopt),
            "Status" = CASE
                WHEN "Status" = 'Ended' OR @kind = 'Ended' THEN 'Ended'
                WHEN @kind = 'ReplicaJoined' AND ("Status" IN ('Pending', 'Created') OR (@adopt IS NOT NULL AND "Status" = 'Failed')) THEN 'Active'
                WHEN @adopt IS NOT NULL AND "Status" IN ('Pending', 'Failed') THEN 'Created'
                ELSE "Status" END,
            "EndedAt" = CASE WHEN @kind = 'Ended' THEN @occurred ELSE "EndedAt" END,
            "EndReason" = CASE WHEN @kind = 'Ended' THEN @endReason ELSE "EndReason" END,
            "ShutdownReason" = CASE WHEN @kind = 'Ended' THEN @shutdownReason ELSE "ShutdownReason" END,
            "LastEventAt" = CASE WHEN "LastEventAt" IS NULL OR "LastEventAt" < @received THEN @received ELSE "LastEventAt" END
        WHERE "Id" = @conversation;
        """;

    private static readonly (string Prefix, string Reason)[] EndReasons =
    [
        ("max_call_duration", "max_call_duration"),
        ("participant_left_timeout", "participant_left_timeout"),
        ("participant_absent_timeout", "participant_absent_timeout"),
        ("end_conversation_endpoint_hit", "ended_by_request"),
        ("bot_could_not_join_meeting", "bot_could_not_join"),
        ("daily_room_has_been_deleted", "room_deleted"),
        ("exception_encountered_during_conversation_startup", "startup_error"),
    ];

    /// <summary>
    /// Tavus' <c>shutdown_reason</c>, normalised. Tavus' pages show reasons with and without the
    /// " reached" suffix, so they are matched by prefix; anything else is <c>error</c>.
    /// </summary>
    public static string NormaliseEndReason(string? shutdownReason)
    {
        var reason = shutdownReason?.Trim() ?? "";
        foreach (var (prefix, normalised) in EndReasons)
        {
            if (reason.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return normalised;
            }
        }
        return "error";
    }

    /// <summary>
    /// What an event changes on its conversation besides its status: the end's reasons. What
    /// arrives after the end (transcript, recording, perception analysis) stays in its event alone
    /// and is read from the timeline (<see cref="Artifacts"/>): one copy of each.
    /// </summary>
    public static EventEffect EffectOf(EventKind kind, JsonElement properties)
    {
        if (kind != EventKind.Ended)
        {
            return EventEffect.None;
        }
        var shutdownReason = StringProperty(properties, "shutdown_reason");
        return new EventEffect { ShutdownReason = shutdownReason, EndReason = NormaliseEndReason(shutdownReason) };
    }

    /// <summary>
    /// The transcript (the <c>transcript</c> of the latest <c>transcription_ready</c>, else its
    /// properties), recording and perception analysis, raw as Tavus sent them, from a timeline.
    /// </summary>
    public static (JsonElement? Transcript, JsonElement? Recording, JsonElement? PerceptionAnalysis) Artifacts(IEnumerable<ConversationEvent> timeline)
    {
        JsonElement? transcript = null, recording = null, perception = null;
        foreach (var e in timeline.OrderBy(e => e.Id))
        {
            switch (e.Kind)
            {
                case EventKind.TranscriptionReady:
                    var properties = JsonSerializer.Deserialize<JsonElement>(e.Properties);
                    transcript = properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("transcript", out var t) ? t : properties;
                    break;
                case EventKind.RecordingReady:
                    recording = JsonSerializer.Deserialize<JsonElement>(e.Properties);
                    break;
                case EventKind.PerceptionAnalysis:
                    perception = JsonSerializer.Deserialize<JsonElement>(e.Properties);
                    break;
            }
        }
        return (transcript, recording, perception);
    }

    private static string? StringProperty(JsonElement properties, string name) =>
        properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var value)
            ? Hosting.TextRules.Read(value)
            : null;
}

/// <summary>The columns an event sets on its conversation besides its status (null: unchanged).</summary>
public sealed record EventEffect
{
    public static EventEffect None { get; } = new();
    public string? ShutdownReason { get; init; }
    public string? EndReason { get; init; }
}
