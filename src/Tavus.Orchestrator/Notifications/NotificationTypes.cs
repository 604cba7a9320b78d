using System.Security.Cryptography;
using System.Text.Json;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Notifications;

/// <summary>The notifications a tenant can be sent, and which one a change to a conversation causes.</summary>
public static class NotificationTypes
{
    public const string Created = "conversation.created";
    public const string Active = "conversation.active";
    public const string Ended = "conversation.ended";
    public const string Failed = "conversation.failed";
    public const string TranscriptReady = "conversation.transcript_ready";
    public const string RecordingReady = "conversation.recording_ready";
    public const string PerceptionReady = "conversation.perception_ready";

    public static IReadOnlyList<string> All { get; } = [Created, Active, Ended, Failed, TranscriptReady, RecordingReady, PerceptionReady];

    /// <summary>
    /// The notification a stored event causes: a move of its conversation's status, as
    /// <see cref="Lifecycle.StatusAfter"/> rules it, or an artifact that arrived after the end.
    /// </summary>
    public static string? Caused(ConversationStatus before, EventWrite write)
    {
        var kind = write.Event.Kind;
        var after = Lifecycle.StatusAfter(before, kind, write.AdoptTavusId is not null);
        if (after != before)
        {
            return ForStatus(after);
        }
        return kind switch
        {
            EventKind.TranscriptionReady => TranscriptReady,
            EventKind.RecordingReady => RecordingReady,
            EventKind.PerceptionAnalysis => PerceptionReady,
            _ => null,
        };
    }

    /// <summary>The notification for a conversation that has just reached <paramref name="status"/>.</summary>
    public static string? ForStatus(ConversationStatus status) => status switch
    {
        ConversationStatus.Created => Created,
        ConversationStatus.Active => Active,
        ConversationStatus.Ended => Ended,
        ConversationStatus.Failed => Failed,
        _ => null,
    };

    /// <summary>Whether an event can cause a notification at all: the others skip the look-up.</summary>
    public static bool MayNotify(EventWrite write) =>
        write.AdoptTavusId is not null || write.Event.Kind is EventKind.ReplicaJoined or EventKind.Ended
            or EventKind.TranscriptionReady or EventKind.RecordingReady or EventKind.PerceptionAnalysis;

    /// <summary>Whether an endpoint's stored <c>EventTypes</c> (a JSON array, null for all) takes this type.</summary>
    public static bool Subscribed(string? eventTypes, string type) =>
        eventTypes is null || (JsonSerializer.Deserialize<string[]>(eventTypes) ?? []).Contains(type);

    /// <summary>A new <c>webhook-id</c>.</summary>
    public static string NewMessageId() => "msg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
