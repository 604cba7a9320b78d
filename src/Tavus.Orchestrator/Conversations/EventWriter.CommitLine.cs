using System.Text;

namespace Tavus.Orchestrator.Conversations;

// The event writer's log record: one line per commit.
public sealed partial class EventWriter
{
    /// <summary>
    /// One line per commit, naming every event in it: the log record of stored callbacks, whose
    /// request lines are Debug (at thousands of callbacks a second, a line each cost 10–15 % of the
    /// service's CPU and as many log lines; the events themselves are the durable record).
    /// </summary>
    private void LogCommit(IReadOnlyList<Pending> batch, RecordOutcome[] outcomes, TimeSpan elapsed)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }
        var writes = new EventWrite[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            writes[i] = batch[i].Write;
        }
        Log.Committed(_logger, batch.Count, outcomes.Count(o => o == RecordOutcome.Duplicate), elapsed.TotalMilliseconds, Describe(writes, outcomes));
    }

    /// <summary>
    /// The commit line's events: each as <c>conversation event_type seq N</c>, and a run of events in
    /// a row with the same conversation, type and outcome (a call's utterances, mostly) as one
    /// <c>conversation event_type ×count seq lowest–highest</c>, so that a busy conversation's commit
    /// is one short line rather than a long one (rendering and writing its bytes was most of what the
    /// line cost). <c>(duplicate)</c> marks events that were stored before.
    /// </summary>
    internal static string Describe(IReadOnlyList<EventWrite> writes, IReadOnlyList<RecordOutcome> outcomes)
    {
        var line = new StringBuilder(64);
        for (var i = 0; i < writes.Count;)
        {
            var first = writes[i].Event;
            var name = writes[i].PublicId ?? first.ConversationId;
            var (low, high, everySeq) = (first.Seq, first.Seq, first.Seq is not null);
            var end = i + 1;
            for (; end < writes.Count; end++)
            {
                var next = writes[end].Event;
                if ((writes[end].PublicId ?? next.ConversationId) != name || next.EventType != first.EventType || outcomes[end] != outcomes[i])
                {
                    break;
                }
                everySeq &= next.Seq is not null;
                (low, high) = (Min(low, next.Seq), Max(high, next.Seq));
            }
            line.Append(i == 0 ? "" : "; ").Append(name).Append(' ').Append(first.EventType);
            if (end - i > 1)
            {
                line.Append(" ×").Append(end - i);
            }
            if (everySeq)
            {
                line.Append(" seq ").Append(low!.Value);
                if (high != low)
                {
                    line.Append('–').Append(high!.Value);
                }
            }
            if (outcomes[i] == RecordOutcome.Duplicate)
            {
                line.Append(" (duplicate)");
            }
            i = end;
        }
        return line.ToString();

        static long? Min(long? a, long? b) => a is null || b is null ? null : Math.Min(a.Value, b.Value);
        static long? Max(long? a, long? b) => a is null || b is null ? null : Math.Max(a.Value, b.Value);
    }
}
