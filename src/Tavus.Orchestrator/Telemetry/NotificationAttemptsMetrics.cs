using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Telemetry;

/// <summary>
/// Tenant notifications in the meter: each attempt by its outcome
/// (<c>tavus.orchestrator.notifications.attempts</c>) and the age of the oldest message still
/// waiting (<c>…notifications.oldest_undelivered.age</c>), which grows between dispatcher passes.
/// </summary>
internal sealed class NotificationAttemptsMetrics : INotificationObserver
{
    private readonly OrchestratorMetrics _metrics;
    private long _oldestTicks; // 0: none waits

    public NotificationAttemptsMetrics(OrchestratorMetrics metrics, TimeProvider time)
    {
        _metrics = metrics;
        metrics.ObserveOldestUndelivered(() => Interlocked.Read(ref _oldestTicks) is var ticks and > 0
            ? Math.Max(0, (time.GetUtcNow().UtcDateTime - new DateTime(ticks, DateTimeKind.Utc)).TotalSeconds)
            : null);
    }

    public void AttemptFinished(AttemptOutcome outcome, TimeSpan duration) => _metrics.NotificationAttempt(outcome switch
    {
        AttemptOutcome.Delivered => "delivered",
        AttemptOutcome.Failed => "failed",
        AttemptOutcome.Gone => "gone",
        AttemptOutcome.TimedOut => "timed_out",
        AttemptOutcome.Refused => "refused",
        _ => "other",
    });

    public void OldestUndelivered(DateTime? createdAt) => Interlocked.Exchange(ref _oldestTicks, createdAt?.Ticks ?? 0);
}
