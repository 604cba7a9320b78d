// The obligations a receiver of Tavus' callbacks has beyond storing them, each the least that does
// it the standard way, so that the DurableReceiver with --Obliged true is the floor of a receiver
// that keeps them: what bench/run.sh measures the orchestrator against as "obliged".
//  - the token check: the token's SHA-256 looked up in memory (the orchestrator's hit path);
//  - JSON with a property named twice is refused (API.md: 400);
//  - errors are problem+json: the exception handler;
//  - the default logging: Serilog as appsettings.json sets it (async console sink, Information,
//    a request line per request, a stored callback's at Debug) and one line per commit;
//  - telemetry: OpenTelemetry metrics with ASP.NET Core's request metrics and /metrics, and a
//    count of stored callbacks added once per commit.

using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using OpenTelemetry.Metrics;
using Serilog;
using Serilog.Events;

internal sealed class Obligations : IDisposable
{
    private static readonly Meter Meter = new("DurableReceiver");
    private static readonly Counter<long> Stored = Meter.CreateCounter<long>("callbacks.received");

    private readonly MemoryCache _tokens = new(new MemoryCacheOptions { SizeLimit = 200_000 });
    private readonly Serilog.ILogger _log;

    private Obligations(Serilog.ILogger log) => _log = log;

    public static Obligations Add(WebApplicationBuilder builder)
    {
        var log = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .WriteTo.Async(sink => sink.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j} {TraceId}{NewLine}{Exception}"))
            .CreateLogger();
        builder.Services.AddSerilog(log, dispose: true);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(Meter.Name, "System.Runtime").AddAspNetCoreInstrumentation().AddPrometheusExporter());
        return new Obligations(log);
    }

    public static void Use(WebApplication app)
    {
        app.UseSerilogRequestLogging(options => options.GetLevel = (context, _, exception) =>
            exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
            : context.Response.StatusCode < 400 ? LogEventLevel.Debug : LogEventLevel.Information);
        app.UseExceptionHandler();
        app.MapPrometheusScrapingEndpoint("/metrics");
    }

    /// <summary>The token's SHA-256, found in memory; a token seen first is remembered (the miss is a database read in the orchestrator).</summary>
    public bool IsKnownToken(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }
        var hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (!_tokens.TryGetValue(hash, out _))
        {
            _tokens.Set(hash, token, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromHours(2) });
        }
        return true;
    }

    public void Committed(int count, TimeSpan elapsed)
    {
        Stored.Add(count, new KeyValuePair<string, object?>("event_type", "other"), new KeyValuePair<string, object?>("outcome", "recorded"));
        _log.Information("Stored {Count} events in one commit of {Elapsed:0.0} ms", count, elapsed.TotalMilliseconds);
    }

    public void Dispose() => _tokens.Dispose();
}
