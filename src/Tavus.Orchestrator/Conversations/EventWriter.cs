using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Telemetry;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// The one way events reach the database: a single writer that commits whatever is queued in one
/// transaction (group commit), then completes each request. One fsync serves a whole batch, so
/// callbacks are answered only after their commit and still fast. Duplicates and second ends are
/// refused by unique indexes (<c>ON CONFLICT DO NOTHING</c>), and conversation state is moved by
/// conditional updates, so the rules hold whatever order events arrive in. This class is the
/// pipeline (queue, batches, completion, backpressure, the commit log); the database is the
/// <see cref="IEventStore"/> chosen in <c>AddDatabase</c>.
/// </summary>
public sealed partial class EventWriter : BackgroundService
{
    private readonly Channel<Pending> _queue;
    private readonly EventOptions _options;
    private readonly IEventStore _store;
    private readonly IDatabaseDialect _dialect;
    private readonly ConversationEvents _live;
    private readonly ILogger<EventWriter> _logger;
    private readonly OrchestratorMetrics _metrics;
    private int _committing;

    public EventWriter(IOptions<EventOptions> options, IEventStore store, IDatabaseDialect dialect, ConversationEvents live,
        ILogger<EventWriter> logger, OrchestratorMetrics metrics)
    {
        _metrics = metrics;
        metrics.ObserveQueueDepth(() => Waiting);
        _options = options.Value;
        _store = store;
        _dialect = dialect;
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
        IEventBatchSession? session = null;
        try
        {
            Run(ref session, stoppingToken);
        }
        finally
        {
            session?.Dispose();
        }
    }

    private void Run(ref IEventBatchSession? session, CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(_options.MaxBatchSize);
        var reader = _queue.Reader;

        // A stop lets the queued writes finish: the hosts stops Kestrel first, so nothing new comes.
        while (reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
        {
            // The turn first: what arrives while a create holds the file joins this batch.
            using var turn = _dialect.EnterWrite();
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            Volatile.Write(ref _committing, batch.Count);
            // Telemetry: one span per commit, linked to the requests it completes (none without a listener).
            using var activity = StartCommitActivity(batch);
            var started = Stopwatch.GetTimestamp();
            RecordOutcome[]? outcomes = null;
            try
            {
                session ??= _store.Open(stoppingToken);
                outcomes = Commit(session, batch);
            }
            catch (Exception ex)
            {
                Log.BatchFailed(_logger, ex, batch.Count);
                if (session is null)
                {
                    // The database cannot be reached: the next batch tries again.
                    FailAll(batch, 0, ex);
                }
                else
                {
                    RetryEachAlone(ref session, batch, stoppingToken);
                }
            }
            if (outcomes is not null)
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                _metrics.Committed(batch.Count, elapsed);
                LogCommit(batch, outcomes, elapsed);
            }
            batch.Clear();
            Volatile.Write(ref _committing, 0);
            if (stoppingToken.IsCancellationRequested && !reader.TryPeek(out _))
            {
                break;
            }
        }
    }

    /// <summary>
    /// One bad write must not fail the others: each is tried alone. A connection the server cut (a
    /// restart, a failover, an operator's <c>pg_terminate_backend</c>) is opened again first, so the
    /// writer outlives it; a database that cannot be reached fails the rest of the batch at once
    /// (503: <see cref="Data.DbErrors.IsUnavailable"/>) and is tried again with the next batch. A write
    /// whose commit the cut connection may have made is answered as a duplicate: the unique indexes
    /// keep it once.
    /// </summary>
    private void RetryEachAlone(ref IEventBatchSession? session, List<Pending> batch, CancellationToken stoppingToken)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                if (session is { IsOpen: false })
                {
                    session.Dispose();
                    session = null;
                }
                session ??= _store.Open(stoppingToken);
                var alone = Stopwatch.GetTimestamp();
                LogCommit([batch[i]], Commit(session, [batch[i]]), Stopwatch.GetElapsedTime(alone));
            }
            catch (Exception ex) when (session is null)
            {
                FailAll(batch, i, ex);
                return;
            }
            catch (Exception ex)
            {
                batch[i].Completion.TrySetException(ex);
            }
        }
    }

    private static void FailAll(List<Pending> batch, int from, Exception ex)
    {
        for (var i = from; i < batch.Count; i++)
        {
            batch[i].Completion.TrySetException(ex);
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    /// <summary>Commits the batch, then hands each new event to live streams and completes each request.</summary>
    private RecordOutcome[] Commit(IEventBatchSession session, IReadOnlyList<Pending> batch)
    {
        var writes = new EventWrite[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            writes[i] = batch[i].Write;
        }
        var outcomes = session.Commit(writes);
        CountCallbacks(writes, outcomes);
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i] == RecordOutcome.Recorded)
            {
                _live.Publish(writes[i].Event.ConversationId, writes[i].Event);
                if (writes[i].Event.Kind == EventKind.Ended)
                {
                    _metrics.ConversationEnded(writes[i].TenantId, writes[i].Effect.EndReason);
                }
            }
            batch[i].Completion.TrySetResult(outcomes[i]);
        }
        return outcomes;
    }

    /// <summary>
    /// Counts the callbacks among the writes before their requests are answered, one add per run of
    /// equal type and outcome: a request's own add, with its tag lookup, cost more than its parse.
    /// </summary>
    private void CountCallbacks(EventWrite[] writes, RecordOutcome[] outcomes)
    {
        ConversationEvent? run = null;
        var (outcome, count) = (default(RecordOutcome), 0);
        for (var i = 0; i < writes.Length; i++)
        {
            var e = writes[i].Event;
            if (e.Source != EventSource.Webhook)
            {
                continue;
            }
            if (run is not null && (e.EventType != run.EventType || outcomes[i] != outcome))
            {
                _metrics.CallbacksCommitted(run.EventType, run.Kind, outcome, count);
                count = 0;
            }
            (run, outcome, count) = (e, outcomes[i], count + 1);
        }
        if (run is not null)
        {
            _metrics.CallbacksCommitted(run.EventType, run.Kind, outcome, count);
        }
    }

    // Telemetry: the commit's span links (at most 128, OpenTelemetry's default limit) the requests it completes.
    private static Activity? StartCommitActivity(List<Pending> batch)
    {
        if (!OrchestratorMetrics.ActivitySource.HasListeners())
        {
            return null;
        }
        var links = new List<ActivityLink>(Math.Min(batch.Count, 128));
        foreach (var pending in batch)
        {
            if (pending.Caller != default && links.Count < 128)
            {
                links.Add(new ActivityLink(pending.Caller));
            }
        }
        var activity = OrchestratorMetrics.ActivitySource.StartActivity("event_writer commit", ActivityKind.Internal, parentContext: default, links: links);
        activity?.SetTag("tavus.orchestrator.batch.size", batch.Count);
        return activity;
    }

    private sealed record Pending(EventWrite Write)
    {
        public TaskCompletionSource<RecordOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The request that queued it, for the commit's span to link to.</summary>
        public ActivityContext Caller { get; } = Activity.Current?.Context ?? default;
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
