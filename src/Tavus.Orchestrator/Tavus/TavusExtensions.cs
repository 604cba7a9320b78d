using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Tavus.Orchestrator.Tenants;
using Tavus.Orchestrator.Webhooks;
using Tavus.Simulator;

namespace Tavus.Orchestrator.Tavus;

public static partial class TavusExtensions
{
    /// <summary>Where the built-in simulator is mounted in simulator mode.</summary>
    public const string SimulatorPrefix = "/tavus-sim";

    public static WebApplicationBuilder AddTavus(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TavusOptions>().BindConfiguration(TavusOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        var tavus = builder.Configuration.GetSection(TavusOptions.Section).Get<TavusOptions>() ?? new TavusOptions();
        if (tavus.UseSimulator)
        {
            builder.Services.AddTavusSimulator();
        }

        builder.Services.AddHttpClient<TavusClient>((services, client) =>
            {
                var options = services.GetRequiredService<IOptions<TavusOptions>>().Value;
                if (options.UseSimulator)
                {
                    // The simulator mounted in this process, reached over HTTP exactly like Tavus.
                    var self = services.GetRequiredService<IOptions<WebhooksOptions>>().Value.PublicBaseUrl.TrimEnd('/');
                    client.BaseAddress = new Uri($"{self}{SimulatorPrefix}/");
                    client.DefaultRequestHeaders.Add("x-api-key", services.GetRequiredService<IOptions<SimulatorOptions>>().Value.ApiKey);
                }
                else
                {
                    client.BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/");
                    client.DefaultRequestHeaders.Add("x-api-key", options.ApiKey);
                }
                // The resilience handler owns the timeouts.
                client.Timeout = Timeout.InfiniteTimeSpan;
                // Tavus' answers are untrusted input: a larger one fails the call (as unavailable)
                // instead of filling memory. A verbose GET with a long transcript stays well under it.
                client.MaxResponseContentBufferSize = options.MaxAnswerBytes;
            })
            .AddStandardResilienceHandler()
            .Configure((HttpStandardResilienceOptions resilience, IServiceProvider services) =>
            {
                var options = services.GetRequiredService<IOptions<TavusOptions>>().Value;
                resilience.AttemptTimeout.Timeout = TimeSpan.FromSeconds(options.AttemptTimeoutSeconds);
                resilience.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(Math.Max(options.TotalTimeoutSeconds, options.AttemptTimeoutSeconds));
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, options.AttemptTimeoutSeconds * 2));
                // The standard handler retries POST too; a create that may have reached Tavus must not be sent twice.
                resilience.Retry.ShouldHandle = args =>
                    args.Context.GetRequestMessage()?.Options.TryGetValue(TavusClient.NoRetry, out var noRetry) == true && noRetry
                        ? PredicateResult.False()
                        : ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome));
            });
        return builder;
    }

    public static WebApplication MapTavusSimulatorWhenEnabled(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TavusOptions>>().Value;
        if (options.UseSimulator)
        {
            app.MapTavusSimulator(SimulatorPrefix);
            // The admin key is named only when it is the public default; a configured one is a secret.
            var adminKey = app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey == TenantSeeding.DemoAdminKey
                ? $"'{TenantSeeding.DemoAdminKey}' (Admin:ApiKey is not set)"
                : "the configured Admin:ApiKey";
            Log.SimulatorMode(app.Logger, SimulatorPrefix, adminKey);
        }
        else
        {
            Log.TavusApi(app.Logger, options.BaseUrl);
        }
        return app;
    }

    // Event ids 400–499: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Warning,
            Message = "SIMULATOR MODE: no Tavus:ApiKey is configured, so conversations go to the built-in Tavus simulator at {SimulatorPrefix}. " +
                "Nothing reaches the real Tavus. Tenant 'demo' with key 'demo-key' is available; the admin API (X-Admin-Key) takes {AdminKey}.")]
        public static partial void SimulatorMode(ILogger logger, string simulatorPrefix, string adminKey);

        [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Tavus API at {TavusBaseUrl}")]
        public static partial void TavusApi(ILogger logger, string tavusBaseUrl);
    }
}
