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

    /// <summary>Where an event stands in a call's life: joined, ended, then what comes after the end.</summary>
    public static int Rank(EventKind kind) => kind switch
    {
        EventKind.ReplicaJoined => 0,
        EventKind.Ended => 1,
        EventKind.Unknown => 1,
        _ => 2,
    };

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
    /// Applies a new event to the conversation. Returns false when the event is a second end of an
    /// already ended conversation: the conversation keeps its first end and the event is a duplicate in effect.
    /// </summary>
    public static bool Apply(Conversation conversation, ConversationEvent @event, JsonElement properties)
    {
        if (conversation.LastEventAt is null || conversation.LastEventAt < @event.ReceivedAt)
        {
            conversation.LastEventAt = @event.ReceivedAt;
        }
        switch (@event.Kind)
        {
            case EventKind.ReplicaJoined:
                if (conversation.Status is ConversationStatus.Created or ConversationStatus.Pending)
                {
                    conversation.Status = ConversationStatus.Active;
                }
                break;
            case EventKind.Ended:
                if (conversation.Status == ConversationStatus.Ended)
                {
                    return false;
                }
                var shutdownReason = StringProperty(properties, "shutdown_reason");
                conversation.Status = ConversationStatus.Ended;
                conversation.EndedAt = @event.OccurredAt;
                conversation.ShutdownReason = shutdownReason;
                conversation.EndReason = NormaliseEndReason(shutdownReason);
                break;
            case EventKind.TranscriptionReady:
                conversation.Transcript = properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("transcript", out var transcript)
                    ? transcript.GetRawText()
                    : @event.Properties;
                break;
            case EventKind.RecordingReady:
                conversation.Recording = @event.Properties;
                break;
            case EventKind.PerceptionAnalysis:
                conversation.PerceptionAnalysis = @event.Properties;
                break;
            case EventKind.Unknown:
                break;
        }
        return true;
    }

    private static string? StringProperty(JsonElement properties, string name) =>
        properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
