using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tavus.Simulator;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// The simulator as its own app: one Tavus shared by several orchestrator instances, as in
/// production. Its callbacks go to <see cref="CallbackTarget"/> (an instance's in-memory server).
/// </summary>
public sealed class SimulatorFactory(FakeTimeProvider time) : WebApplicationFactory<global::Tavus.Simulator.Program>
{
    public Func<HttpMessageHandler>? CallbackTarget { get; set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Simulator:ApiKey", OrchestratorFactory.SimulatorKey);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddHttpClient(SimulatorDefaults.CallbackHttpClientName).ConfigurePrimaryHttpMessageHandler(() =>
                CallbackTarget?.Invoke() ?? throw new InvalidOperationException("No callback target set."));
        });
    }

    public HttpClient CreateTavusClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("x-api-key", OrchestratorFactory.SimulatorKey);
        return client;
    }
}
