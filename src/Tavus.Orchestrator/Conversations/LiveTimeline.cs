using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// What one live stream sends: the timeline read once at open (less what the client's
/// <c>Last-Event-ID</c> says it has), then each event the in-process fan-out brings, each once. It
/// waits without polling; the database is read again only by event id, for what its queue dropped.
/// A <paramref name="final"/> stream (a failed conversation: nothing more will come) ends after
/// the timeline; any other ends once the conversation ended and its transcript came.
/// </summary>
internal sealed class LiveTimeline(
    string conversationKey,
    bool final,
    ConversationEvents.Subscription subscription,
    List<ConversationEvent> stored,
    StreamCursor cursor)
{
    private bool _ended;
    private bool _transcript;

    public async Task RunAsync(EventStreamResult.Output output, EventOptions options, TimeProvider time, IServiceScopeFactory scopes,
        CancellationToken cancellationToken)
    {
        foreach (var e in stored)
        {
            Track(e);
        }
        var pending = stored.Where(e => !cursor.IsDelivered(e.Id)).ToList();
        var unsent = new SortedSet<long>(pending.Select(e => e.Id));
        foreach (var e in pending)
        {
            unsent.Remove(e.Id);
            output.Event(e, cursor.Sent(e.Id, unsent.Count > 0 ? unsent.Min : null));
        }
        stored.Clear();
        await output.FlushAsync(cancellationToken);
        if (final)
        {
            return;
        }

        var heartbeat = TimeSpan.FromSeconds(options.HeartbeatSeconds);
        CancellationTokenSource? transcriptWait = null;
        try
        {
            while (!(_ended && _transcript))
            {
                if (_ended)
                {
                    transcriptWait ??= new CancellationTokenSource(TimeSpan.FromSeconds(options.TranscriptWaitSeconds), time);
                }
                if (transcriptWait?.IsCancellationRequested == true)
                {
                    return; // ended, and the transcript did not come in time
                }
                var wake = await WaitAsync(heartbeat, time, transcriptWait?.Token ?? CancellationToken.None, cancellationToken);
                if (wake == Wake.Closed)
                {
                    return;
                }
                if (wake == Wake.Timer)
                {
                    if (transcriptWait?.IsCancellationRequested != true)
                    {
                        // Proxies close a connection that stays silent too long.
                        output.Comment();
                        await output.FlushAsync(cancellationToken);
                    }
                    continue;
                }
                var next = new List<ConversationEvent>();
                while (subscription.Reader.TryRead(out var e))
                {
                    next.Add(e);
                }
                if (subscription.TakeMissedFrom() is { } missedFrom)
                {
                    next.AddRange(await ReadFromAsync(scopes, missedFrom, cancellationToken));
                }
                foreach (var e in next.OrderBy(e => e.Id))
                {
                    if (!cursor.IsDelivered(e.Id))
                    {
                        Track(e);
                        output.Event(e, cursor.Sent(e.Id, null));
                    }
                }
                await output.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            transcriptWait?.Dispose();
        }
    }

    private enum Wake
    {
        Events,
        Timer,
        Closed,
    }

    /// <summary>Until events are waiting, or the heartbeat (or the transcript wait) is due.</summary>
    private async Task<Wake> WaitAsync(TimeSpan heartbeat, TimeProvider time, CancellationToken transcriptWait, CancellationToken cancellationToken)
    {
        using var beat = new CancellationTokenSource(heartbeat, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, beat.Token, transcriptWait);
        try
        {
            return await subscription.Reader.WaitToReadAsync(linked.Token) ? Wake.Events : Wake.Closed;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Wake.Timer;
        }
    }

    /// <summary>The conversation's events from an id on, in a scope of their own, given back at once.</summary>
    private async Task<List<ConversationEvent>> ReadFromAsync(IServiceScopeFactory scopes, long fromId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        return await db.ConversationEvents.AsNoTracking()
            .Where(e => e.ConversationId == conversationKey && e.Id >= fromId)
            .ToListAsync(cancellationToken);
    }

    private void Track(ConversationEvent e)
    {
        _ended |= e.Kind == EventKind.Ended;
        _transcript |= e.Kind == EventKind.TranscriptionReady;
    }
}
