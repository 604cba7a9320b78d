using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Tavus.Orchestrator.Tests;

/// <summary>One operation of the service's OpenAPI document, with the body shapes a valid request would have.</summary>
public sealed record ApiOperation(string Method, string Template, IReadOnlyList<ApiParameter> Parameters, IReadOnlyList<Shape> Bodies, string? Security)
{
    public string Name => $"{Method} {Template}";

    /// <summary>Every operation of the document; <paramref name="moreBodies"/> adds known body shapes by operation name.</summary>
    public static List<ApiOperation> ReadAll(JsonElement document, IReadOnlyDictionary<string, IEnumerable<JsonNode>> moreBodies)
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var operations = new List<ApiOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var method = operation.Name.ToUpperInvariant();
                if (method is not ("GET" or "POST" or "PUT" or "PATCH" or "DELETE"))
                {
                    continue;
                }
                var parameters = new List<ApiParameter>();
                if (operation.Value.TryGetProperty("parameters", out var declared))
                {
                    foreach (var parameter in declared.EnumerateArray())
                    {
                        var schema = parameter.TryGetProperty("schema", out var s) ? s : default;
                        parameters.Add(new ApiParameter(parameter.GetProperty("name").GetString()!, parameter.GetProperty("in").GetString()!,
                            schema.ValueKind == JsonValueKind.Object ? TypeOf(schema) : "string"));
                    }
                }
                var bodies = new List<Shape>();
                if (operation.Value.TryGetProperty("requestBody", out var requestBody) &&
                    requestBody.GetProperty("content").TryGetProperty("application/json", out var media))
                {
                    if (media.TryGetProperty("example", out var example))
                    {
                        bodies.Add(Shape.From(JsonNode.Parse(example.GetRawText())));
                    }
                    if (media.TryGetProperty("schema", out var schema))
                    {
                        bodies.Add(Shape.From(SampleOf(schema, schemas, depth: 0)));
                    }
                }
                var name = $"{method} {path.Name}";
                if (moreBodies.TryGetValue(name, out var more))
                {
                    bodies.AddRange(more.Select(Shape.From));
                }
                var security = operation.Value.TryGetProperty("security", out var requirements) && requirements.GetArrayLength() > 0
                    ? requirements[0].EnumerateObject().Select(p => p.Name).FirstOrDefault()
                    : null;
                // A key that goes in the query (the callback token) is a parameter to generate like the others.
                if (security is not null && document.GetProperty("components").TryGetProperty("securitySchemes", out var schemes) &&
                    schemes.TryGetProperty(security, out var scheme) && scheme.TryGetProperty("in", out var where) && where.GetString() == "query" &&
                    scheme.GetProperty("name").GetString() is { } keyName && parameters.All(p => p.Name != keyName))
                {
                    parameters.Add(new ApiParameter(keyName, "query", "string"));
                }
                operations.Add(new ApiOperation(method, path.Name, parameters, bodies, security));
            }
        }
        return operations;
    }

    /// <summary>The first type of a schema that is not null (string last: "integer or string" is an integer).</summary>
    private static string TypeOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return schema.TryGetProperty("properties", out _) ? "object" : "any";
        }
        if (type.ValueKind == JsonValueKind.String)
        {
            return type.GetString()!;
        }
        var types = type.EnumerateArray().Select(t => t.GetString()!).Where(t => t != "null").ToList();
        return types.FirstOrDefault(t => t != "string") ?? types.FirstOrDefault() ?? "any";
    }

    /// <summary>A plausible value for a schema: what a well-behaved client would send, before it is mutated.</summary>
    private static JsonNode? SampleOf(JsonElement schema, JsonElement schemas, int depth)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!.Split('/')[^1];
            return depth > 4 || !schemas.TryGetProperty(name, out var target) ? null : SampleOf(target, schemas, depth + 1);
        }
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var choice = oneOf.EnumerateArray().FirstOrDefault(s => !(s.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "null"));
            return choice.ValueKind == JsonValueKind.Object ? SampleOf(choice, schemas, depth) : null;
        }
        if (schema.TryGetProperty("enum", out var values))
        {
            return JsonNode.Parse(values[0].GetRawText());
        }
        switch (TypeOf(schema))
        {
            case "object":
                var sample = new JsonObject();
                if (schema.TryGetProperty("properties", out var properties))
                {
                    foreach (var property in properties.EnumerateObject())
                    {
                        sample[property.Name] = SampleOf(property.Value, schemas, depth + 1);
                    }
                }
                return sample;
            case "array":
                return schema.TryGetProperty("items", out var items) ? new JsonArray(SampleOf(items, schemas, depth + 1)) : new JsonArray();
            case "integer":
                return 1;
            case "number":
                return 0.5;
            case "boolean":
                return true;
            case "string":
                return schema.TryGetProperty("format", out var format) && format.GetString() == "date-time" ? "2025-05-13T06:42:58Z" : "x";
            default:
                return new JsonObject();
        }
    }
}

public sealed record ApiParameter(string Name, string In, string Type);

/// <summary>
/// A JSON text under construction. Keys and literals are kept as raw JSON text, so a body can carry
/// what no serializer writes: duplicate keys, lone surrogates (<c>"\ud800"</c>), <c>1e400</c>.
/// </summary>
public abstract record Shape
{
    public static Shape From(JsonNode? node) => node switch
    {
        JsonObject o => new ShapeObject([.. o.Select(m => new ShapeMember(JsonText.Quote(m.Key), From(m.Value)))]),
        JsonArray a => new ShapeArray([.. a.Select(From)]),
        null => new ShapeLiteral("null"),
        _ => new ShapeLiteral(node.ToJsonString()),
    };

    public abstract void Write(StringBuilder text);

    /// <summary>The JSON text (a record's own ToString would list its members instead).</summary>
    public string Render()
    {
        var text = new StringBuilder();
        Write(text);
        return text.ToString();
    }

    /// <summary>Every member of every object, by its position (member or item indices from the root) and dotted name.</summary>
    public IEnumerable<(int[] Path, string Name)> Fields() => Fields(this, [], "");

    private static IEnumerable<(int[] Path, string Name)> Fields(Shape shape, int[] at, string prefix)
    {
        switch (shape)
        {
            case ShapeObject o:
                for (var i = 0; i < o.Members.Count; i++)
                {
                    var name = prefix + JsonText.Unquote(o.Members[i].Key);
                    yield return ([.. at, i], name);
                    foreach (var nested in Fields(o.Members[i].Value, [.. at, i], name + "."))
                    {
                        yield return nested;
                    }
                }
                break;
            case ShapeArray a:
                for (var i = 0; i < Math.Min(a.Items.Count, 3); i++)
                {
                    foreach (var nested in Fields(a.Items[i], [.. at, i], $"{prefix.TrimEnd('.')}[{i}]."))
                    {
                        yield return nested;
                    }
                }
                break;
        }
    }

    /// <summary>The objects of the shape (the root included), by position.</summary>
    public IEnumerable<int[]> Objects() =>
        (this is ShapeObject ? new[] { Array.Empty<int>() } : []).Concat(
            Fields().Where(f => At(f.Path) is ShapeObject).Select(f => f.Path));

    public Shape At(int[] path) => path.Length == 0 ? this : Child(path[0]).At(path[1..]);

    private Shape Child(int index) => this switch
    {
        ShapeObject o => o.Members[index].Value,
        ShapeArray a => a.Items[index],
        _ => throw new InvalidOperationException("A literal has no children."),
    };

    /// <summary>The shape with the value at <paramref name="path"/> replaced.</summary>
    public Shape With(int[] path, Func<Shape, Shape> change) => path.Length == 0 ? change(this) : this switch
    {
        ShapeObject o => new ShapeObject([.. o.Members.Select((m, i) => i == path[0] ? m with { Value = m.Value.With(path[1..], change) } : m)]),
        ShapeArray a => new ShapeArray([.. a.Items.Select((item, i) => i == path[0] ? item.With(path[1..], change) : item)]),
        _ => this,
    };

    /// <summary>The shape without the member (or item) at <paramref name="path"/>.</summary>
    public Shape Without(int[] path) => path.Length == 1
        ? this switch
        {
            ShapeObject o => new ShapeObject([.. o.Members.Where((_, i) => i != path[0])]),
            ShapeArray a => new ShapeArray([.. a.Items.Where((_, i) => i != path[0])]),
            _ => this,
        }
        : With(path[..1], child => child.Without(path[1..]));

    /// <summary>The shape with a member inserted into the object at <paramref name="objectPath"/>, at <paramref name="index"/>.</summary>
    public Shape Inserting(int[] objectPath, int index, ShapeMember member) => With(objectPath, target => target is ShapeObject o
        ? new ShapeObject([.. o.Members.Take(index), member, .. o.Members.Skip(index)])
        : target);
}

public sealed record ShapeMember(string Key, Shape Value);

public sealed record ShapeObject(IReadOnlyList<ShapeMember> Members) : Shape
{
    public override void Write(StringBuilder text)
    {
        text.Append('{');
        for (var i = 0; i < Members.Count; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(Members[i].Key).Append(':');
            Members[i].Value.Write(text);
        }
        text.Append('}');
    }
}

public sealed record ShapeArray(IReadOnlyList<Shape> Items) : Shape
{
    public override void Write(StringBuilder text)
    {
        text.Append('[');
        for (var i = 0; i < Items.Count; i++)
        {
            text.Append(i == 0 ? "" : ",");
            Items[i].Write(text);
        }
        text.Append(']');
    }
}

public sealed record ShapeLiteral(string Text) : Shape
{
    public override void Write(StringBuilder text) => text.Append(Text);
}

public static class JsonText
{
    /// <summary>
    /// A JSON string literal that keeps non-ASCII text as it is (UTF-8 on the wire) but escapes
    /// quotes, control characters and every surrogate, so a lone one arrives as <c>\ud800</c>.
    /// </summary>
    public static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                _ when c < ' ' || char.IsSurrogate(c) => text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => text.Append(c),
            };
        }
        return text.Append('"').ToString();
    }

    public static string Unquote(string key)
    {
        try
        {
            return JsonSerializer.Deserialize<string>(key) ?? key;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            return key;
        }
    }
}
