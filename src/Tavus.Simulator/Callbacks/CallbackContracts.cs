using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tavus.Simulator.Callbacks;

/// <summary>A callback body, member for member in the order of Tavus' documented examples.</summary>
internal sealed record CallbackBody(
    object Properties,
    string ConversationId,
    string? WebhookUrl,
    string EventType,
    string MessageType,
    string Timestamp);

internal sealed record ReplicaJoinedProperties(string ReplicaId);

internal sealed record ShutdownProperties(string ReplicaId, string ShutdownReason);

internal sealed record TranscriptionReadyProperties(string ReplicaId, IReadOnlyList<TranscriptItem> Transcript);

internal sealed record TranscriptItem(string Role, string Content);

internal sealed record RecordingReadyProperties(string BucketName, string S3Key, int Duration);

/// <summary>One attempt to send a callback, with what came back (names spelled out for the host's OpenAPI document).</summary>
internal sealed record DeliveryRecord(
    [property: JsonPropertyName("event_type")] string EventType,
    [property: JsonPropertyName("attempted_at")] string AttemptedAt,
    [property: JsonPropertyName("status_code"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? StatusCode,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Error,
    [property: JsonPropertyName("dropped")] bool Dropped,
    [property: JsonPropertyName("duplicate")] bool Duplicate,
    [property: JsonPropertyName("body")] JsonElement Body);

internal static class EventTypes
{
    public const string ReplicaJoined = "system.replica_joined";
    public const string Shutdown = "system.shutdown";
    public const string TranscriptionReady = "application.transcription_ready";
    public const string RecordingReady = "application.recording_ready";
}

internal static class ShutdownReasons
{
    public const string MaxCallDuration = "max_call_duration reached";
    public const string ParticipantAbsentTimeout = "participant_absent_timeout reached";
    public const string ParticipantLeftTimeout = "participant_left_timeout reached";
    public const string EndpointHit = "end_conversation_endpoint_hit";
    public const string RoomDeleted = "daily_room_has_been_deleted";
}
