using System.Collections.Frozen;
using Serilog.Core;
using Serilog.Events;

namespace Tavus.Orchestrator.Hosting;

/// <summary>
/// Masks secrets in every log event, whatever level a deployment turns on: the query string
/// (callback tokens ride in <c>?token=</c>), which ASP.NET Core's hosting diagnostics log at
/// Information, and the key headers, whose values HttpClient's Trace logging redacts in the message
/// but still carries raw in the event's properties.
/// </summary>
public sealed class SecretRedaction : ILogEventEnricher
{
    private static readonly FrozenSet<string> SecretHeaders =
        new[] { "x-api-key", "x-admin-key", "authorization", "cookie", "set-cookie" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    private static readonly ScalarValue Masked = new("*");

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<string>? secrets = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (SecretHeaders.Contains(name) || (name == "QueryString" && value is ScalarValue { Value: string { Length: > 0 } }))
            {
                (secrets ??= []).Add(name);
            }
        }
        foreach (var name in secrets ?? [])
        {
            logEvent.AddOrUpdateProperty(new LogEventProperty(name, name == "QueryString" ? new ScalarValue("?*") : Masked));
        }
    }
}
