using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Conversations;

/// <summary>The Server-Sent Events stream of one conversation's timeline.</summary>
public static class LiveTimeline
{
    /// <summary>
    /// Subscribes before reading the stored timeline, so that no event falls between the two; an
    /// event both read and received is sent once (by its id). A <paramref name="final"/> stream (a
    /// failed conversation: nothing more will come) ends after the timeline.
    /// </summary>
    public static async IAsyncEnumerable<SseItem<EventResponse>> ReadAsync(
        string conversationKey,
        bool final,
        HttpResponse response,
        OrchestratorDbContext db,
        ConversationEvents live,
        TimeProvider time,
        EventOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = live.Subscribe(conversationKey);
        // Send the headers now: a client waits for them before it does what produces the events.
        await response.Body.FlushAsync(cancellationToken);
        var sent = new HashSet<long>();
        var ended = false;
        var transcript = false;

        foreach (var stored in await ConversationsApi.Timeline(db, conversationKey, cancellationToken))
        {
            sent.Add(stored.Id);
            Track(stored);
            yield return Item(stored);
        }

        if (final)
        {
            yield break;
        }

        CancellationTokenSource? transcriptWait = null;
        try
        {
            while (!(ended && transcript))
            {
                if (ended)
                {
                    transcriptWait ??= new CancellationTokenSource(TimeSpan.FromSeconds(options.TranscriptWaitSeconds), time);
                }
                if (transcriptWait?.IsCancellationRequested == true)
                {
                    yield break; // ended, and the transcript did not come in time
                }
                // Wall-clock polling: it bounds how late another instance's events arrive here.
                using var poll = new CancellationTokenSource(options.PollMilliseconds);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(
                    cancellationToken, poll.Token, transcriptWait?.Token ?? CancellationToken.None);
                List<ConversationEvent> next;
                try
                {
                    next = [await subscription.Reader.ReadAsync(linked.Token)];
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    next = await ConversationsApi.Timeline(db, conversationKey, cancellationToken);
                }
                foreach (var e in next.Where(e => sent.Add(e.Id)))
                {
                    Track(e);
                    yield return Item(e);
                }
            }
        }
        finally
        {
            transcriptWait?.Dispose();
        }

        void Track(ConversationEvent e)
        {
            ended |= e.Kind == EventKind.Ended;
            transcript |= e.Kind == EventKind.TranscriptionReady;
        }
    }

    private static SseItem<EventResponse> Item(ConversationEvent e) =>
        new(EventResponse.From(e), e.Kind.ToString().ToSnakeCase())
        {
            EventId = e.Id.ToString(CultureInfo.InvariantCulture),
        };

    private static string ToSnakeCase(this string name) =>
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}
