using System.Diagnostics;
using Xunit.Sdk;

namespace Tavus.Testing;

/// <summary>
/// Waits, in real time and within a bound, for something that happens off the test's thread:
/// callbacks sent in the background, a group commit, a reconciler pass.
/// </summary>
public static class Eventually
{
    private const double DefaultSeconds = 15;

    /// <summary>Probes until <paramref name="done"/> holds and returns the value that satisfied it.</summary>
    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, double seconds = DefaultSeconds)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (stopwatch.Elapsed.TotalSeconds > seconds)
            {
                throw new XunitException($"Gave up after {seconds} s waiting for {what}. Last seen: {value}");
            }

            await Task.Delay(10);
        }
    }

    public static Task TrueAsync(Func<bool> condition, string what, double seconds = DefaultSeconds) =>
        WaitAsync(() => Task.FromResult(condition()), done => done, what, seconds);

    public static Task TrueAsync(Func<Task<bool>> condition, string what, double seconds = DefaultSeconds) =>
        WaitAsync(condition, done => done, what, seconds);
}
