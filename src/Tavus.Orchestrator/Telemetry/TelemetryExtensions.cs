using System.ComponentModel.DataAnnotations;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Tavus.Orchestrator.Telemetry;

public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Off: no OpenTelemetry SDK at all (the instruments record to nobody); for comparisons.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Serve <c>/metrics</c> in Prometheus' text format.</summary>
    public bool Prometheus { get; set; } = true;

    [Required, RegularExpression("^/[a-z0-9/_-]{1,64}$")]
    public string PrometheusPath { get; set; } = "/metrics";
}

/// <summary>
/// OpenTelemetry the standard way: metrics from our meter, ASP.NET Core and HttpClient always (for
/// <c>/metrics</c>); traces of requests, calls to Tavus, PostgreSQL commands and the event writer's
/// commits when an OTLP endpoint is configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) — with nowhere to
/// send them, recording spans would only cost. OTLP then exports metrics too.
/// </summary>
public static class TelemetryExtensions
{
    public const string DefaultServiceName = "tavus-orchestrator";

    /// <summary>The .NET runtime's built-in meter (.NET 9 and later).</summary>
    public const string RuntimeMeterName = "System.Runtime";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<OrchestratorMetrics>();
        builder.Services.AddSingleton<LiveConversationsGauge>();
        builder.Services.AddSingleton<Notifications.INotificationObserver, NotificationAttemptsMetrics>();

        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (!options.Enabled)
        {
            return builder;
        }
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? DefaultServiceName))
            .WithMetrics(metrics =>
            {
                // System.Runtime: the runtime's own (GC, allocated bytes, CPU time, thread pool, locks),
                // read only when exported: what an operator reads first when a process slows.
                metrics.AddMeter(OrchestratorMetrics.MeterName, RuntimeMeterName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation()
                    // A count of route matches per request says nothing http.server.request.duration
                    // does not, and costs the callback path an update per request: dropped, so
                    // ASP.NET Core does not record it at all.
                    .AddView("aspnetcore.routing.match_attempts", MetricStreamConfiguration.Drop);
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(OrchestratorMetrics.MeterName)
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context => !context.Request.Path.StartsWithSegments(options.PrometheusPath))
                .AddHttpClientInstrumentation()
                .AddNpgsql());
            telemetry.UseOtlpExporter();
        }
        return builder;
    }

    public static WebApplication MapTelemetry(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<OrchestratorMetrics>();
        metrics.ObserveLiveConversations(app.Services.GetRequiredService<LiveConversationsGauge>().Read);
        var options = app.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (options is { Enabled: true, Prometheus: true })
        {
            app.MapPrometheusScrapingEndpoint(options.PrometheusPath);
        }
        return app;
    }
}
