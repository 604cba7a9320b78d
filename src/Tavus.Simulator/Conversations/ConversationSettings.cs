namespace Tavus.Simulator.Conversations;

/// <summary>What a conversation was created with, validated and with Tavus' defaults filled in.</summary>
internal sealed record ConversationSettings(
    string Id,
    long Sequence,
    string Name,
    string Url,
    string? CallbackUrl,
    string ReplicaId,
    string? PersonaId,
    string? ConversationalContext,
    string? CustomGreeting,
    string? MeetingToken,
    int MaxCallDuration,
    int ParticipantLeftTimeout,
    int ParticipantAbsentTimeout,
    bool EnableRecording,
    string RecordingBucketName,
    bool TestMode,
    DateTimeOffset CreatedAt);

/// <summary>Why a join or leave did or did not happen.</summary>
internal enum ParticipantOutcome
{
    Done,
    NotLive,
    AlreadyInRoom,
    NotInRoom,
    RoomEmpty,
}

internal sealed record ParticipantChange(ParticipantOutcome Outcome, string? ParticipantId, IReadOnlyList<string> Participants);
