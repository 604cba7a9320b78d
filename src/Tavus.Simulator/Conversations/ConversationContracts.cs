using System.Text.Json;
using System.Text.Json.Serialization;

// Wire names are spelled out, not left to the simulator's snake_case policy alone: a host's OpenAPI
// document describes these types with the host's JSON options, and must still show Tavus' names.
namespace Tavus.Simulator.Conversations;

/// <summary>The body of <c>POST /v2/conversations</c>; fields Tavus accepts but the simulator does not act on are ignored.</summary>
internal sealed record CreateConversationRequest(
    [property: JsonPropertyName("persona_id")] string? PersonaId = null,
    [property: JsonPropertyName("replica_id")] string? ReplicaId = null,
    [property: JsonPropertyName("callback_url")] string? CallbackUrl = null,
    [property: JsonPropertyName("conversation_name")] string? ConversationName = null,
    [property: JsonPropertyName("conversational_context")] string? ConversationalContext = null,
    [property: JsonPropertyName("custom_greeting")] string? CustomGreeting = null,
    [property: JsonPropertyName("test_mode")] bool? TestMode = null,
    [property: JsonPropertyName("require_auth")] bool? RequireAuth = null,
    [property: JsonPropertyName("audio_only")] bool? AudioOnly = null,
    [property: JsonPropertyName("properties")] ConversationPropertiesRequest? Properties = null);

internal sealed record ConversationPropertiesRequest(
    [property: JsonPropertyName("max_call_duration")] int? MaxCallDuration = null,
    [property: JsonPropertyName("participant_left_timeout")] int? ParticipantLeftTimeout = null,
    [property: JsonPropertyName("participant_absent_timeout")] int? ParticipantAbsentTimeout = null,
    [property: JsonPropertyName("enable_recording")] bool? EnableRecording = null,
    [property: JsonPropertyName("enable_closed_captions")] bool? EnableClosedCaptions = null,
    [property: JsonPropertyName("recording_s3_bucket_name")] string? RecordingS3BucketName = null,
    [property: JsonPropertyName("recording_s3_bucket_region")] string? RecordingS3BucketRegion = null,
    [property: JsonPropertyName("language")] string? Language = null);

/// <summary>A conversation as Tavus answers it; absent members are left out of the JSON.</summary>
internal sealed record ConversationResponse(
    [property: JsonPropertyName("conversation_id")] string ConversationId,
    [property: JsonPropertyName("conversation_name")] string ConversationName,
    [property: JsonPropertyName("conversation_url")] string ConversationUrl,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("callback_url")] string? CallbackUrl,
    [property: JsonPropertyName("replica_id")] string ReplicaId,
    [property: JsonPropertyName("persona_id")] string? PersonaId,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("updated_at")] string? UpdatedAt,
    [property: JsonPropertyName("shutdown_reason")] string? ShutdownReason,
    [property: JsonPropertyName("meeting_token")] string? MeetingToken,
    [property: JsonPropertyName("events")] IReadOnlyList<ConversationEventResponse>? Events);

/// <summary>One callback event the conversation generated, as listed by a verbose GET.</summary>
internal sealed record ConversationEventResponse(
    [property: JsonPropertyName("event_type")] string EventType,
    [property: JsonPropertyName("message_type")] string MessageType,
    [property: JsonPropertyName("timestamp")] string Timestamp,
    [property: JsonPropertyName("properties")] JsonElement Properties);

internal sealed record ConversationListResponse(
    [property: JsonPropertyName("data")] IReadOnlyList<ConversationResponse> Data,
    [property: JsonPropertyName("total_count")] int TotalCount);

/// <summary>Tavus' refusal shape: <c>{"error": "..."}</c>.</summary>
internal sealed record TavusError([property: JsonPropertyName("error")] string Error);

/// <summary>Tavus' other refusal (and acknowledgement) shape: <c>{"message": "..."}</c>.</summary>
internal sealed record TavusMessage([property: JsonPropertyName("message")] string Message);
