using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tavus.Orchestrator.Tests.Generated;

/// <summary>
/// NSwag's System.Text.Json client reads enums as numbers unless told otherwise; its hook for the
/// serializer settings takes the contract's enum format (snake_case strings, as the document lists them).
/// </summary>
public partial class OrchestratorClient
{
    static partial void UpdateJsonSerializerSettings(JsonSerializerOptions settings) =>
        settings.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
}
