namespace Tavus.Simulator.Conversations;

/// <summary>
/// Maps simulated seconds onto the injected <see cref="TimeProvider"/>: at a time scale of 60, a
/// simulated minute passes in one real (or fake) second.
/// </summary>
internal sealed class SimulatorClock(TimeProvider timeProvider, double timeScale)
{
    // Timers cannot wait longer than about 49 days; a longer wait is re-armed when it fires.
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(1);
    private const double MaxRealSeconds = 100d * 365 * 24 * 3600;

    public TimeProvider TimeProvider => timeProvider;

    public DateTimeOffset Now => timeProvider.GetUtcNow();

    public DateTimeOffset After(DateTimeOffset from, int simulatedSeconds) =>
        from + TimeSpan.FromSeconds(Math.Min(simulatedSeconds / timeScale, MaxRealSeconds));

    public int SimulatedSeconds(TimeSpan elapsed) =>
        (int)Math.Clamp(Math.Round(elapsed.TotalSeconds * timeScale), 0, int.MaxValue);

    /// <summary>
    /// How long a timer armed at <paramref name="now"/> must wait to fire at or after <paramref name="at"/>.
    /// Rounded up to whole milliseconds, because timers count in milliseconds and one firing a hair
    /// early would find nothing due; never zero, because a zero due time fires inside Change itself.
    /// </summary>
    public static TimeSpan DueTime(DateTimeOffset now, DateTimeOffset at)
    {
        var milliseconds = Math.Ceiling((at - now).TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Math.Clamp(milliseconds, 1, MaxTimerDue.TotalMilliseconds));
    }
}
