namespace Tavus.Orchestrator.Notifications;

/// <summary>
/// Wakes the <see cref="NotificationDispatcher"/> when this instance commits a message into the
/// outbox or makes one due again, so it neither waits for its next look nor looks while nothing
/// changed. Raised after the commit, never before: a pass woken early could miss the row.
/// </summary>
public sealed class OutboxSignal
{
    private TaskCompletionSource _raised = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Raise() => Volatile.Read(ref _raised).TrySetResult();

    /// <summary>Completes when <see cref="Raise"/> is called after the last <see cref="Reset"/>.</summary>
    public Task Raised => Volatile.Read(ref _raised).Task;

    /// <summary>Called before a pass: what is raised during the pass wakes the next one.</summary>
    public void Reset()
    {
        var current = Volatile.Read(ref _raised);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _raised, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }
    }
}
