using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tavus.Orchestrator.Hosting;

/// <summary>
/// One JSON format per boundary, so that a change to one cannot silently change another: the HTTP
/// contract with our clients, Tavus' wire format, and the JSON stored in database columns (which
/// must read every row ever written).
/// </summary>
public static class JsonFormats
{
    /// <summary>
    /// The HTTP contract (applied to ASP.NET Core's web defaults): snake_case, enums as snake_case
    /// strings, each name once, and numbers that are numbers — the web defaults also read them from
    /// strings, which the OpenAPI document then types as <c>number | string</c>.
    /// </summary>
    public static void ConfigureHttp(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.NumberHandling = JsonNumberHandling.Strict;
        // RFC 8259 leaves a repeated name undefined, and parsers differ on which one wins: refuse it.
        options.AllowDuplicateProperties = false;
    }

    /// <summary>The HTTP contract's options, for answers written outside an endpoint's serializer.</summary>
    public static JsonSerializerOptions Http { get; } = Freeze(ConfigureHttp, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Tavus' API: snake_case, a field we have no value for left out, its answers untrusted (each name once).</summary>
    public static JsonSerializerOptions Tavus { get; } = Freeze(options =>
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.AllowDuplicateProperties = false;
    });

    /// <summary>Stored columns (a tenant's policy, a conversation's adjustments): fixed, whatever the API does.</summary>
    public static JsonSerializerOptions Storage { get; } = Freeze(options =>
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    });

    private static JsonSerializerOptions Freeze(Action<JsonSerializerOptions> configure, JsonSerializerOptions? options = null)
    {
        options ??= new JsonSerializerOptions();
        configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
