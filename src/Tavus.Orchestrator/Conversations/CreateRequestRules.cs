using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// The field checks of a create body, read from <see cref="CreateConversationRequest"/>'s own JSON
/// contract (its names and types under the HTTP format), so the record OpenAPI describes and the
/// rules that check a body cannot drift apart.
/// </summary>
public static class CreateRequestRules
{
    private enum Kind { String, Bool, Integer, StringArray, Object }

    private static readonly Dictionary<string, Kind> TopLevel = KindsOf(typeof(CreateConversationRequest));
    private static readonly Dictionary<string, Kind> Properties = KindsOf(typeof(ConversationPropertiesRequest));

    private static Dictionary<string, Kind> KindsOf(Type type) =>
        JsonFormats.Http.GetTypeInfo(type).Properties.ToDictionary(p => p.Name, p => KindOf(p));

    private static Kind KindOf(JsonPropertyInfo property) => (Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType) switch
    {
        var t when t == typeof(string) => Kind.String,
        var t when t == typeof(bool) => Kind.Bool,
        var t when t == typeof(int) => Kind.Integer,
        var t when t == typeof(List<string>) => Kind.StringArray,
        var t when t.IsClass => Kind.Object,
        var t => throw new InvalidOperationException($"No create rule for {property.Name} of type {t.Name}."),
    };

    /// <summary>
    /// Checks every field: an unknown one is refused with the nearest known name, never ignored
    /// (Tavus' own pages misspell <c>max_call_durations</c>), and <c>callback_url</c> is ours.
    /// Returns the errors by field, none when the body binds.
    /// </summary>
    public static Dictionary<string, string[]> Check(JsonElement root)
    {
        var errors = new Dictionary<string, string[]>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors[""] = ["The body must be a JSON object."];
            return errors;
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
        return errors;
    }

    private static bool HasText(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && !string.IsNullOrWhiteSpace(TextRules.Read(value));

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
            var field = prefix + Problems.Quote(property.Name);
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
        TextRules.ReadStorable(value, maxLength, freeText: true) is not null;

    private static string UnknownFieldMessage(string name, IEnumerable<string> known, IEnumerable<string> otherLevel, string prefix)
    {
        if (name.Length > Problems.QuoteLength)
        {
            // No known name is anywhere near this long; the message quotes only its start.
            return $"Unknown field '{Problems.Quote(name)}'.";
        }
        var near = Math.Max(2, name.Length / 4);
        if (Nearest(name, known) is { } nearest && nearest.Distance <= near)
        {
            return $"Unknown field '{name}': did you mean `{nearest.Name}`?";
        }
        // A field at the wrong level, spelled right or nearly (max_call_durations at the top).
        if (Nearest(name, otherLevel) is { } elsewhere && elsewhere.Distance <= near)
        {
            return prefix.Length == 0
                ? $"Unknown field '{name}': did you mean `properties.{elsewhere.Name}`?"
                : $"Unknown field '{name}' inside properties: `{elsewhere.Name}` belongs at the top level of the request.";
        }
        return $"Unknown field '{name}'.";
    }

    private static (string Name, int Distance)? Nearest(string name, IEnumerable<string> candidates) =>
        candidates.Select(k => ((string Name, int Distance)?)(k, Levenshtein(name, k))).MinBy(k => k!.Value.Distance);

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
