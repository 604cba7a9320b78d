using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Tavus.Simulator.Hosting;

/// <summary>Answers and request bodies in the simulator's own JSON, whatever the host configured.</summary>
internal static class SimulatorResults
{
    public static JsonHttpResult<T> Json<T>(T value, int statusCode = StatusCodes.Status200OK) =>
        TypedResults.Json(value, SimulatorJson.Options, contentType: "application/json", statusCode: statusCode);

    /// <summary>
    /// Reads an optional JSON body with the simulator's options (the host's binder would use its own).
    /// An empty body gives neither a value nor an error.
    /// </summary>
    public static async Task<(T? Value, string? Error)> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 4096, leaveOpen: true);
        var text = await reader.ReadToEndAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null);
        }

        try
        {
            return (JsonSerializer.Deserialize<T>(text, SimulatorJson.Options), null);
        }
        catch (JsonException ex)
        {
            // The path names the field at fault; the message would name internal types.
            return (null, $"Invalid JSON at {ex.Path ?? "$"}: malformed, or a value of the wrong type");
        }
    }
}
