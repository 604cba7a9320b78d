using System.Diagnostics;
using Xunit.Sdk;

namespace Tavus.Simulator.Tests.Infrastructure;

/// <summary>Waits, within a bound, for something that happens off the test's thread (callbacks are sent in the background).</summary>
internal static class Eventually
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (stopwatch.Elapsed > Bound)
            {
                throw new XunitException($"Gave up after {Bound.TotalSeconds} s waiting for {what}.");
            }

            await Task.Delay(10);
        }
    }
}
