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

        CancellationTokenSource? transcriptWait = null;
        try
        {
            while (!(_ended && _transcript))
            {
                if (_ended)
                {
                    transcriptWait ??= new CancellationTokenSource(TimeSpan.FromSeconds(options.TranscriptWaitSeconds), time);
                }
                if (!await WaitAsync(transcriptWait, cancellationToken))
                {
                    return; // closed, or ended and the transcript did not come in time
                }
                var next = new List<ConversationEvent>();
                var heartbeat = false;
                while (subscription.Reader.TryRead(out var e))
                {
                    if (ReferenceEquals(e, ConversationEvents.Heartbeat))
                    {
                        heartbeat = true;
                    }
                    else
                    {
                        next.Add(e);
                    }
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
                if (heartbeat && next.Count == 0)
                {
                    // Proxies close a connection that stays silent too long.
                    output.Comment();
                }
                await output.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            transcriptWait?.Dispose();
        }
    }

    /// <summary>
    /// Until something is queued (events, or the heartbeat); false when the stream is closed or the
    /// transcript wait is over. Only that wait needs a timer of its own.
    /// </summary>
    private async Task<bool> WaitAsync(CancellationTokenSource? transcriptWait, CancellationToken cancellationToken)
    {
        if (transcriptWait is null)
        {
            return await subscription.Reader.WaitToReadAsync(cancellationToken);
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, transcriptWait.Token);
        try
        {
            return await subscription.Reader.WaitToReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
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
