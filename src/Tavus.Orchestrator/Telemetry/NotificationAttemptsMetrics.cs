using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Telemetry;

/// <summary>Each notification attempt counted by its outcome (<c>tavus.orchestrator.notification.attempts</c>).</summary>
internal sealed class NotificationAttemptsMetrics(OrchestratorMetrics metrics) : INotificationObserver
{
    public void AttemptFinished(AttemptOutcome outcome, TimeSpan duration) => metrics.NotificationAttempt(outcome switch
    {
        AttemptOutcome.Delivered => "delivered",
        AttemptOutcome.Failed => "failed",
        AttemptOutcome.Gone => "gone",
        AttemptOutcome.TimedOut => "timed_out",
        AttemptOutcome.Refused => "refused",
        _ => "other",
    });
}
