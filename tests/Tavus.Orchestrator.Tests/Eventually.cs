namespace Tavus.Orchestrator.Tests;

public static class Eventually
{
    /// <summary>Waits (real time, bounded) for something that happens in the background.</summary>
    public static Task TrueAsync(Func<bool> condition, string what, int seconds = 15) =>
        TrueAsync(() => Task.FromResult(condition()), what, seconds);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }
            await Task.Delay(20);
        }
    }
}
