using System.Globalization;
using Microsoft.Extensions.Time.Testing;

namespace Tavus.Simulator.Tests.Infrastructure;

/// <summary>
/// The shared <see cref="SimulatorHost"/> as these tests use it: its clock at <see cref="Start"/> and
/// every callback captured by <see cref="Callbacks"/>.
/// </summary>
internal sealed class SimulatorApp : SimulatorHost
{
    public new const string ApiKey = "test-key";
    public const string CallbackUrl = "https://receiver.test/tavus/callbacks";

    /// <summary>The moment every conversation in a test is created, unless the test advances first.</summary>
    public static readonly DateTimeOffset Start = new(2025, 7, 11, 6, 45, 45, TimeSpan.Zero);

    public SimulatorApp(params (string Key, string? Value)[] settings)
        : base(new FakeTimeProvider(Start), ApiKey, settings)
    {
        CallbackTarget = () => Callbacks;
    }

    public CapturingHandler Callbacks { get; } = new();

    /// <summary>A client that sends the right key.</summary>
    public HttpClient Api() => CreateApiClient();

    /// <summary>A timestamp as Tavus writes it, <paramref name="seconds"/> after <see cref="Start"/>.</summary>
    public static string At(double seconds) =>
        (Start + Seconds(seconds)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
