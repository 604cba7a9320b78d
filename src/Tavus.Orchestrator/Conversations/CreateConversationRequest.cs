using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tavus.Orchestrator.Conversations;

/// <summary>The Tavus create request, less <c>callback_url</c>, which the orchestrator owns.</summary>
/// <remarks>Documents the body in OpenAPI; the handler validates the raw JSON so that it can name unknown fields.
/// Every member has a default, so the document marks none required (one of persona_id and replica_id is, checked below).</remarks>
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
    ConversationPropertiesRequest? Properties = null);

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

/// <summary>A create request that passed the field checks; the timers are not resolved yet.</summary>
public sealed record ValidatedCreate(JsonObject Body, int? MaxCallDuration, int? ParticipantLeftTimeout, int? ParticipantAbsentTimeout)
{
    private enum Kind { String, Bool, Integer, StringArray, Object }

    private static readonly Dictionary<string, Kind> TopLevel = new()
    {
        ["persona_id"] = Kind.String,
        ["replica_id"] = Kind.String,
        ["conversation_name"] = Kind.String,
        ["conversational_context"] = Kind.String,
        ["custom_greeting"] = Kind.String,
        ["audio_only"] = Kind.Bool,
        ["require_auth"] = Kind.Bool,
        ["test_mode"] = Kind.Bool,
        ["memory_stores"] = Kind.StringArray,
        ["document_ids"] = Kind.StringArray,
        ["document_retrieval_strategy"] = Kind.String,
        ["document_tags"] = Kind.StringArray,
        ["properties"] = Kind.Object,
    };

    private static readonly Dictionary<string, Kind> Properties = new()
    {
        ["max_call_duration"] = Kind.Integer,
        ["participant_left_timeout"] = Kind.Integer,
        ["participant_absent_timeout"] = Kind.Integer,
        ["enable_recording"] = Kind.Bool,
        ["enable_closed_captions"] = Kind.Bool,
        ["apply_greenscreen"] = Kind.Bool,
        ["language"] = Kind.String,
        ["recording_s3_bucket_name"] = Kind.String,
        ["recording_s3_bucket_region"] = Kind.String,
        ["aws_assume_role_arn"] = Kind.String,
    };

    /// <summary>
    /// Checks every field: an unknown one is refused with the nearest known name, never ignored
    /// (Tavus' own pages misspell <c>max_call_durations</c>), and <c>callback_url</c> is ours.
    /// </summary>
    public static ValidatedCreate? Validate(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors[""] = ["The body must be a JSON object."];
            return null;
        }
        CheckObject(root, TopLevel, Properties, "", errors);
        if (root.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            CheckObject(properties, Properties, TopLevel, "properties.", errors);
        }
        if (!HasText(root, "persona_id") && !HasText(root, "replica_id"))
        {
            errors["persona_id"] = ["persona_id or replica_id is required."];
        }
        if (errors.Count > 0)
        {
            return null;
        }
        var body = JsonObject.Create(root.Clone())!;
        return new ValidatedCreate(body, Timer("max_call_duration"), Timer("participant_left_timeout"), Timer("participant_absent_timeout"));

        int? Timer(string name) =>
            root.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object &&
            p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
                ? value.GetInt32()
                : null;
    }

    private static bool HasText(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && !string.IsNullOrWhiteSpace(Hosting.TextRules.Read(value));

    /// <summary>More errors than this are not listed: the answer stays small whatever the body holds.</summary>
    private const int MaxErrors = 10;

    /// <summary>The longest text a field may hold; free text (the context, the greeting) is bounded by the body alone.</summary>
    private static int MaxLength(string name) => name switch
    {
        "conversational_context" or "custom_greeting" => int.MaxValue,
        "conversation_name" => 256,
        _ => 512,
    };

    private const int MaxArrayItems = 100;

    private static void CheckObject(JsonElement element, Dictionary<string, Kind> known, Dictionary<string, Kind> otherLevel, string prefix, Dictionary<string, string[]> errors)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (errors.Count >= MaxErrors)
            {
                return;
            }
            var field = prefix + Hosting.Problems.Quote(property.Name);
            if (property.Name == "callback_url")
            {
                errors[field] = ["callback_url is set by the orchestrator, which receives Tavus' callbacks for you; leave it out."];
                continue;
            }
            if (!known.TryGetValue(property.Name, out var kind))
            {
                errors[field] = [UnknownFieldMessage(property.Name, known.Keys, otherLevel.Keys, prefix)];
                continue;
            }
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            var maxLength = MaxLength(property.Name);
            var ok = kind switch
            {
                Kind.String => property.Value.ValueKind == JsonValueKind.String && IsText(property.Value, maxLength),
                Kind.Bool => property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                Kind.Integer => property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt32(out _),
                Kind.StringArray => property.Value.ValueKind == JsonValueKind.Array && property.Value.GetArrayLength() <= MaxArrayItems &&
                    property.Value.EnumerateArray().All(item => item.ValueKind == JsonValueKind.String && IsText(item, maxLength)),
                Kind.Object => property.Value.ValueKind == JsonValueKind.Object,
                _ => false,
            };
            if (!ok)
            {
                var limit = maxLength == int.MaxValue ? "" : $" of at most {maxLength} characters";
                errors[field] = [kind switch
                {
                    Kind.String => $"{property.Name} must be a string{limit}, without control characters.",
                    Kind.Bool => $"{property.Name} must be true or false.",
                    Kind.Integer => $"{property.Name} must be a whole number of seconds.",
                    Kind.StringArray => $"{property.Name} must be an array of at most {MaxArrayItems} strings{limit}.",
                    _ => $"{property.Name} must be an object.",
                }];
            }
        }
    }

    private static bool IsText(JsonElement value, int maxLength) =>
        Hosting.TextRules.ReadStorable(value, maxLength, freeText: true) is not null;

    private static string UnknownFieldMessage(string name, IEnumerable<string> known, IEnumerable<string> otherLevel, string prefix)
    {
        if (name.Length > Hosting.Problems.QuoteLength)
        {
            // No known name is anywhere near this long; the message quotes only its start.
            return $"Unknown field '{Hosting.Problems.Quote(name)}'.";
        }
        var nearest = known.Select(k => (Name: k, Distance: Levenshtein(name, k))).MinBy(k => k.Distance);
        if (nearest.Name is not null && nearest.Distance <= Math.Max(2, name.Length / 4))
        {
            return $"Unknown field '{name}': did you mean `{nearest.Name}`?";
        }
        var elsewhere = otherLevel.FirstOrDefault(k => k == name);
        if (elsewhere is not null)
        {
            return prefix.Length == 0
                ? $"Unknown field '{name}': did you mean `properties.{name}`?"
                : $"Unknown field '{name}' inside properties: it belongs at the top level of the request.";
        }
        return $"Unknown field '{name}'.";
    }

    private static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
