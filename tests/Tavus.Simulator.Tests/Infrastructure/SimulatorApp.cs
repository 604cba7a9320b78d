using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Tavus.Simulator.Tests.Infrastructure;

/// <summary>
/// The standalone simulator in memory: a fake clock that only moves when a test advances it, and a
/// capturing handler behind the callback client, so no callback ever reaches the network.
/// </summary>
internal sealed class SimulatorApp : WebApplicationFactory<Program>
{
    public const string ApiKey = "test-key";
    public const string CallbackUrl = "https://receiver.test/tavus/callbacks";

    /// <summary>The moment every conversation in a test is created, unless the test advances first.</summary>
    public static readonly DateTimeOffset Start = new(2025, 7, 11, 6, 45, 45, TimeSpan.Zero);

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Simulator:ApiKey"] = ApiKey,
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public SimulatorApp(params (string Key, string? Value)[] settings)
    {
        Time.SetUtcNow(Start);
        foreach (var (key, value) in settings)
        {
            _settings[key] = value;
        }
    }

    public FakeTimeProvider Time { get; } = new();

    public CapturingHandler Callbacks { get; } = new();

    /// <summary>A client that sends the right key.</summary>
    public HttpClient Api()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("x-api-key", ApiKey);
        return client;
    }

    /// <summary>Moves the fake clock; rounded to whole ticks so that a sum of advances lands exactly on a deadline.</summary>
    public void Advance(double seconds) => Time.Advance(Seconds(seconds));

    /// <summary>A timestamp as Tavus writes it, <paramref name="seconds"/> after <see cref="Start"/>.</summary>
    public static string At(double seconds) =>
        (Start + Seconds(seconds)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static TimeSpan Seconds(double seconds) => TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            services.AddHttpClient(SimulatorDefaults.CallbackHttpClientName)
                .ConfigurePrimaryHttpMessageHandler(() => Callbacks)
                .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        });
    }
}
