using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// The Tavus create request, less <c>callback_url</c>, which the orchestrator owns: what
/// <c>POST /conversations</c> binds, what OpenAPI describes, and what goes to Tavus.
/// </summary>
/// <remarks>
/// Bound by <see cref="BindAsync"/>, which checks the raw JSON against this record's own JSON
/// contract first (<see cref="CreateRequestRules"/>), so that an unknown field is named with the
/// nearest known one rather than ignored. Every member may be left out, so the document marks none
/// required (one of persona_id and replica_id is, checked by the rules).
/// </remarks>
public sealed record CreateConversationRequest(
    string? PersonaId = null,
    string? ReplicaId = null,
    string? ConversationName = null,
    string? ConversationalContext = null,
    string? CustomGreeting = null,
    bool? AudioOnly = null,
    bool? RequireAuth = null,
    bool? TestMode = null,
    List<string>? MemoryStores = null,
    List<string>? DocumentIds = null,
    string? DocumentRetrievalStrategy = null,
    List<string>? DocumentTags = null,
    ConversationPropertiesRequest? Properties = null) : IBindableFromHttpContext<CreateConversationRequest>
{
    /// <summary>SHA-256 of the body as sent: what an Idempotency-Key's retry must repeat.</summary>
    [JsonIgnore]
    public string BodyHash { get; init; } = "";

    /// <summary>
    /// Reads the body under Conversations:MaxBodyBytes, checks it, and binds it; a body that fails
    /// is refused with <see cref="InvalidRequestException"/> (413, or 400 naming each field).
    /// </summary>
    public static async ValueTask<CreateConversationRequest?> BindAsync(HttpContext context, System.Reflection.ParameterInfo parameter)
    {
        var maxBodyBytes = context.RequestServices.GetRequiredService<IOptions<ConversationsOptions>>().Value.MaxBodyBytes;
        using var body = await RequestBody.ReadAsync(context.Request, maxBodyBytes, context.RequestAborted);
        if (body?.Memory is not { } bytes)
        {
            throw new InvalidRequestException(StatusCodes.Status413PayloadTooLarge, "The body is too large.",
                $"A create body is at most Conversations:MaxBodyBytes ({maxBodyBytes} bytes).");
        }
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false });
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // JsonException's message can quote a megabyte-long name back: say what, not that.
            throw new InvalidRequestException(StatusCodes.Status400BadRequest, "The body is not valid JSON.",
                "The body must be one JSON object, with each property name at most once.");
        }
        var errors = CreateRequestRules.Check(root);
        if (errors.Count > 0)
        {
            throw new InvalidRequestException(errors);
        }
        var request = root.Deserialize<CreateConversationRequest>(JsonFormats.Http)!;
        return request with { BodyHash = Idempotency.Hash(bytes.Span) };
    }

    /// <summary>The request's timers replaced by the resolved ones.</summary>
    public CreateConversationRequest WithTimers(Tenants.ConversationTimers timers) => this with
    {
        Properties = (Properties ?? new ConversationPropertiesRequest()) with
        {
            MaxCallDuration = timers.MaxCallDuration,
            ParticipantLeftTimeout = timers.ParticipantLeftTimeout,
            ParticipantAbsentTimeout = timers.ParticipantAbsentTimeout,
        },
    };
}

public sealed record ConversationPropertiesRequest(
    int? MaxCallDuration = null,
    int? ParticipantLeftTimeout = null,
    int? ParticipantAbsentTimeout = null,
    bool? EnableRecording = null,
    bool? EnableClosedCaptions = null,
    bool? ApplyGreenscreen = null,
    string? Language = null,
    string? RecordingS3BucketName = null,
    string? RecordingS3BucketRegion = null,
    string? AwsAssumeRoleArn = null);
