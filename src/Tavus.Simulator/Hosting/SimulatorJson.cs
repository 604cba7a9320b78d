using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Tavus.Simulator.Hosting;

/// <summary>
/// The simulator's own wire format. It never uses the host's JSON options, so mounted in the
/// orchestrator or running alone it reads and writes exactly what Tavus does.
/// </summary>
internal static class SimulatorJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Tavus' timestamp format: UTC, six fraction digits, <c>Z</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            // Tavus rejects "30" where a number is expected; the web default would accept it.
            NumberHandling = JsonNumberHandling.Strict,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
            // Answers are JSON read by programs, never embedded in HTML: keep quotes and apostrophes readable.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly();
        return options;
    }
}
