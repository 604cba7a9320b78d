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
    private static readonly string[] SecretHeaders = ["x-api-key", "X-Admin-Key", "Authorization", "Cookie", "Set-Cookie"];
    private static readonly ScalarValue Masked = new("*");

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (logEvent.Properties.TryGetValue("QueryString", out var query)
            && query is ScalarValue { Value: string { Length: > 0 } })
        {
            logEvent.AddOrUpdateProperty(new LogEventProperty("QueryString", new ScalarValue("?*")));
        }
        foreach (var header in SecretHeaders)
        {
            if (logEvent.Properties.ContainsKey(header))
            {
                logEvent.AddOrUpdateProperty(new LogEventProperty(header, Masked));
            }
        }
    }
}
