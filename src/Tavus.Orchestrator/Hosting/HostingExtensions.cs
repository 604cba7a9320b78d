using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Hosting;

/// <summary>Cross-cutting hosting: logging, JSON, ProblemDetails, OpenAPI, health.</summary>
public static class HostingExtensions
{
    public static WebApplicationBuilder AddHosting(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.With<SecretRedaction>(), preserveStaticLogger: true);
        // Serilog's own factory builds a new logger on every CreateLogger (each EF context and
        // authentication handler asks for some); the framework's factory keeps one per category.
        // Levels stay Serilog's to decide.
        builder.Services.RemoveAll<ILoggerFactory>().AddSingleton<ILoggerFactory, LoggerFactory>();
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace);
        builder.Services.AddSingleton<ILoggerProvider>(services => new SerilogLoggerProvider(services.GetRequiredService<Serilog.ILogger>()));

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.ConfigureHttpJsonOptions(options => JsonFormats.ConfigureHttp(options.SerializerOptions));
        builder.Services.AddProblems();
        builder.AddRateLimits();
        builder.Services.AddOpenApiDocument();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        return builder;
    }

    public static WebApplication UseHosting(this WebApplication app)
    {
        // RequestPath carries no query string, so callback tokens never reach the log.
        app.UseSerilogRequestLogging(options =>
        {
            // This host's logger, not Serilog's static one, which another host in the process
            // (a test, say) may have replaced.
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            // An endpoint whose successes are logged elsewhere (stored callbacks: one line per
            // commit from the event writer) logs its 2xx request line at Debug; failures, and
            // every other request, get their own line as usual.
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : context.Response.StatusCode < 400 && context.GetEndpoint()?.Metadata.GetMetadata<SuccessLoggedElsewhere>() is not null ? LogEventLevel.Debug
                : LogEventLevel.Information;
            options.EnrichDiagnosticContext = (diagnostics, context) =>
            {
                if (context.User.FindFirst(AuthSchemes.TenantIdClaim)?.Value is { } tenantId)
                {
                    diagnostics.Set("TenantId", tenantId);
                }
                if (context.Items[LogProperties.ConversationId] is string conversationId)
                {
                    diagnostics.Set("ConversationId", conversationId);
                }
                if (context.Items[LogProperties.EventType] is string eventType)
                {
                    diagnostics.Set("EventType", eventType);
                }
            };
        });
        // After the request log, so that the log line carries the status the client got (a
        // client that hung up is 499, not an error) rather than the exception on its way out.
        app.UseExceptionHandler();
        // An endpoint that checks and limits its callers itself and writes every refusal as a
        // problem (Tavus' callbacks: the token) skips what only the tenant and operator API need:
        // even with nothing to authenticate, authentication resolves its scoped handler provider
        // (the request's first scoped service: a dictionary for the scope) and both middlewares
        // await a state machine each.
        app.UseWhen(IsApi, api => api.UseStatusCodePages().UseAuthentication().UseAuthorization().UseTenantRateLimits());
        // A branch's builder keeps its own copy of the properties, so the host, not seeing them
        // set, would add both again in front of everything (before the exception handler).
        var properties = ((IApplicationBuilder)app).Properties;
        properties[AuthenticationMiddlewareSetKey] = true;
        properties[AuthorizationMiddlewareSetKey] = true;
        return app;
    }

    // WebApplicationBuilder's own keys (internal there): set, it adds neither middleware itself.
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";
    private const string AuthorizationMiddlewareSetKey = "__AuthorizationMiddlewareSet";

    private static bool IsApi(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<ChecksItsOwnCallers>() is null;

    public static WebApplication MapHosting(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        // Only requests for the UI go through its middleware; callbacks and API calls skip it.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/swagger"), ui => ui.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint("/openapi/v1.json", "Tavus Orchestrator v1");
            options.RoutePrefix = "swagger";
            options.DocumentTitle = "Tavus Orchestrator";
            options.EnableTryItOutByDefault();
        }));
        app.MapGet("/", () => TypedResults.Redirect("/swagger")).ExcludeFromDescription();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false })
            .WithTags("Health").WithSummary("The process is up.");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") })
            .WithTags("Health").WithSummary("The database is reachable and its schema current.");
        return app;
    }
}
