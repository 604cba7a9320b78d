using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tavus.Simulator;

namespace Tavus.Testing;

/// <summary>
/// The standalone simulator in memory, for both test projects: a fake clock that moves only when a
/// test advances it, and callbacks sent to <see cref="CallbackTarget"/> (a capturing handler, or an
/// orchestrator's in-memory server), so that nothing reaches the network.
/// </summary>
public class SimulatorHost : WebApplicationFactory<global::Tavus.Simulator.Program>
{
    private readonly Dictionary<string, string?> _settings = new() { ["Logging:LogLevel:Default"] = "Warning" };

    /// <param name="time">The clock, shared with the other hosts of the same test.</param>
    /// <param name="apiKey">The key Tavus accepts (Simulator:ApiKey).</param>
    /// <param name="settings">Configuration over the defaults.</param>
    public SimulatorHost(FakeTimeProvider time, string apiKey, params (string Key, string? Value)[] settings)
    {
        Time = time;
        ApiKey = apiKey;
        _settings["Simulator:ApiKey"] = apiKey;
        foreach (var (key, value) in settings)
        {
            _settings[key] = value;
        }
    }

    public FakeTimeProvider Time { get; }

    public string ApiKey { get; }

    /// <summary>Where callbacks go; set before the first conversation is created.</summary>
    public Func<HttpMessageHandler>? CallbackTarget { get; set; }

    /// <summary>A client that sends the right key.</summary>
    public HttpClient CreateApiClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("x-api-key", ApiKey);
        return client;
    }

    /// <summary>Moves the fake clock; rounded to whole ticks so that a sum of advances lands exactly on a deadline.</summary>
    public void Advance(double seconds) => Time.Advance(Seconds(seconds));

    protected static TimeSpan Seconds(double seconds) => TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            // One handler for the host's life: a capturing handler must not be disposed and replaced.
            services.AddHttpClient(SimulatorDefaults.CallbackHttpClientName)
                .ConfigurePrimaryHttpMessageHandler(() => CallbackTarget?.Invoke() ?? throw new InvalidOperationException("No callback target set."))
                .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        });
    }
}
