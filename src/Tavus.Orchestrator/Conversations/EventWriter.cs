using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Conversations;

/// <summary>An event to store, with what it changes on its conversation.</summary>
/// <param name="Event">The event, with our conversation key.</param>
/// <param name="Effect">The columns it sets on the conversation.</param>
/// <param name="AdoptTavusId">Tavus' id for a conversation that has none yet (its create answer was lost).</param>
/// <param name="PublicId">The id clients know the conversation by (Tavus' id, which a callback names), for the log.</param>
public sealed record EventWrite(ConversationEvent Event, EventEffect Effect, string? AdoptTavusId = null, string? PublicId = null);

/// <summary>
/// The one way events reach the database: a single writer that commits whatever is queued in one
/// transaction (group commit), then completes each request. One fsync serves a whole batch, so
/// callbacks are answered only after their commit and still fast. Duplicates and second ends are
/// refused by unique indexes (<c>ON CONFLICT DO NOTHING</c>), and conversation state is moved by
/// conditional updates, so the rules hold whatever order events arrive in.
/// </summary>
public sealed partial class EventWriter : BackgroundService
{
    private readonly Channel<Pending> _queue;
    private readonly EventOptions _options;
    private readonly IConfiguration _configuration;
    private readonly ConversationEvents _live;
    private readonly SqliteWriteGate _gate;
    private readonly ILogger<EventWriter> _logger;
    private int _committing;

    public EventWriter(IOptions<EventOptions> options, IConfiguration configuration, ConversationEvents live, SqliteWriteGate gate,
        ILogger<EventWriter> logger)
    {
        _gate = gate;
        _options = options.Value;
        _configuration = configuration;
        _live = live;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Writes accepted and not yet committed: queued, or in the batch being committed.</summary>
    internal int Waiting => _queue.Reader.Count + Volatile.Read(ref _committing);

    /// <summary>Queues a write unless the queue is full; the task completes after the commit.</summary>
    public bool TryWrite(EventWrite write, out Task<RecordOutcome> committed)
    {
        var pending = new Pending(write);
        committed = pending.Completion.Task;
        return _queue.Writer.TryWrite(pending);
    }

    /// <summary>Queues a write, waiting for room; completes after the commit.</summary>
    public async Task<RecordOutcome> WriteAsync(EventWrite write, CancellationToken cancellationToken)
    {
        var pending = new Pending(write);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Completion.Task;
    }

    // The writer blocks in every commit's fsync: it gets a thread of its own rather than holding
    // one of the few thread-pool threads that serve requests (two on a two-core machine).
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        using var connection = DatabaseExtensions.OpenConnectionAsync(_configuration, stoppingToken).GetAwaiter().GetResult();
        using var statements = new Statements(connection);
        using var checkpointer = connection is SqliteConnection sqlite && _options.CheckpointBytes > 0
            ? WalCheckpointer.Start(sqlite, _configuration, _options.CheckpointBytes, _logger)
            : null;
        var batch = new List<Pending>(_options.MaxBatchSize);
        var reader = _queue.Reader;

        // A stop lets the queued writes finish: the hosts stops Kestrel first, so nothing new comes.
        while (reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
        {
            // The turn first: what arrives while a create holds the file joins this batch.
            using var turn = _gate.Enter();
            checkpointer?.CatchUp();
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            Volatile.Write(ref _committing, batch.Count);
            var started = Stopwatch.GetTimestamp();
            RecordOutcome[]? outcomes = null;
            try
            {
                outcomes = Commit(connection, statements, batch);
            }
            catch (Exception ex)
            {
                // One bad write must not fail the others: retry each alone.
                Log.BatchFailed(_logger, ex, batch.Count);
                foreach (var pending in batch)
                {
                    try
                    {
                        var alone = Stopwatch.GetTimestamp();
                        LogCommit([pending], Commit(connection, statements, [pending]), Stopwatch.GetElapsedTime(alone));
                    }
                    catch (Exception single)
                    {
                        pending.Completion.TrySetException(single);
                    }
                }
            }
            if (outcomes is not null)
            {
                LogCommit(batch, outcomes, Stopwatch.GetElapsedTime(started));
            }
            checkpointer?.Committed(batch.Select(pending => pending.Write.Event));
            batch.Clear();
            Volatile.Write(ref _committing, 0);
            if (stoppingToken.IsCancellationRequested && !reader.TryPeek(out _))
            {
                break;
            }
        }
    }

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
        var events = new string[batch.Count];
        var duplicates = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var write = batch[i].Write;
            var e = write.Event;
            var duplicate = outcomes[i] == RecordOutcome.Duplicate;
            duplicates += duplicate ? 1 : 0;
            events[i] = $"{write.PublicId ?? e.ConversationId} {e.EventType}{(e.Seq is { } seq ? $" seq {seq}" : "")}{(duplicate ? " (duplicate)" : "")}";
        }
        Log.Committed(_logger, batch.Count, duplicates, elapsed.TotalMilliseconds, string.Join("; ", events));
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    private RecordOutcome[] Commit(DbConnection connection, Statements statements, IReadOnlyList<Pending> batch)
    {
        var outcomes = new RecordOutcome[batch.Count];
        // Events that only tell us the conversation is alive (utterances, unknown types) update it
        // once per batch, not once each.
        var heardFrom = new Dictionary<string, DateTime>();
        using (var transaction = connection.BeginTransaction())
        {
            statements.Enlist(transaction);
            var ids = statements.InsertAll(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i].Write;
                var id = ids[i];
                if (id is null)
                {
                    outcomes[i] = RecordOutcome.Duplicate;
                    continue;
                }
                write.Event.Id = id.Value;
                outcomes[i] = RecordOutcome.Recorded;
                if (MovesConversation(write))
                {
                    statements.Apply(write);
                }
                else if (!heardFrom.TryGetValue(write.Event.ConversationId, out var last) || last < write.Event.ReceivedAt)
                {
                    heardFrom[write.Event.ConversationId] = write.Event.ReceivedAt;
                }
            }
            foreach (var (conversationId, receivedAt) in heardFrom)
            {
                statements.HeardFrom(conversationId, receivedAt);
            }
            transaction.Commit();
        }
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i] == RecordOutcome.Recorded)
            {
                _live.Publish(batch[i].Write.Event.ConversationId, batch[i].Write.Event);
            }
            batch[i].Completion.TrySetResult(outcomes[i]);
        }
        return outcomes;
    }

    private static bool MovesConversation(EventWrite write) =>
        write.Event.Kind is EventKind.ReplicaJoined or EventKind.Ended || write.AdoptTavusId is not null || write.Effect != EventEffect.None;

    private sealed record Pending(EventWrite Write)
    {
        public TaskCompletionSource<RecordOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    // Event ids 100–119: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information,
            Message = "Stored {Count} events ({Duplicates} duplicates) in one commit of {Elapsed:0.0} ms: {Events}")]
        public static partial void Committed(ILogger logger, int count, int duplicates, double elapsed, string events);

        [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "A batch of {Count} events failed; committing them one by one")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int count);
    }
}
