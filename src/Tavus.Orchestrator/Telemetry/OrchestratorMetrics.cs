using System.Diagnostics;
using System.Diagnostics.Metrics;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Telemetry;

/// <summary>
/// The service's own instruments, on the meter <c>Tavus.Orchestrator</c>, named as .NET names its
/// own (lowercase, dotted, units in UCUM: <c>s</c>, <c>{callback}</c>). Recording is a few
/// nanoseconds with nobody listening and one lock-free add with the SDK on, so it sits on the
/// ingest path. Observable instruments read their value through a source set by its owner.
/// </summary>
public sealed class OrchestratorMetrics
{
    public const string MeterName = "Tavus.Orchestrator";

    /// <summary>Traces of the event writer's commits (and anything else of ours that is not a request).</summary>
    public static readonly ActivitySource ActivitySource = new(MeterName);

    private static readonly double[] CommitSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    private static readonly int[] BatchSizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    private readonly Counter<long> _callbacks;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _ends;
    private readonly Counter<long> _notificationAttempts;
    private readonly Histogram<double> _tavusDuration;
    private Func<int> _queueDepth = () => 0;
    private Func<IEnumerable<Measurement<long>>> _live = () => [];
    private Func<double?> _oldestUndelivered = () => null;

    public OrchestratorMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _callbacks = meter.CreateCounter<long>("tavus.orchestrator.callbacks.received", "{callback}",
            "Tavus callbacks received, by event_type and outcome (recorded, duplicate, invalid, unauthorized, busy, too_large).");
        _commitDuration = meter.CreateHistogram("tavus.orchestrator.event_writer.commit.duration", "s",
            "How long one group commit of the event writer took.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CommitSeconds });
        _batchSize = meter.CreateHistogram("tavus.orchestrator.event_writer.batch.size", "{event}",
            "Events in one group commit.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchSizes });
        meter.CreateObservableUpDownCounter("tavus.orchestrator.event_writer.queue.depth", () => _queueDepth(), "{event}",
            "Callbacks accepted and not yet committed.");
        meter.CreateObservableUpDownCounter("tavus.orchestrator.conversations.live", () => _live(), "{conversation}",
            "Conversations not yet ended or failed, by tenant_id (read from the database, so the same on every instance).");
        _ends = meter.CreateCounter<long>("tavus.orchestrator.conversations.ended", "{conversation}",
            "Conversations this instance recorded as ended, by tenant_id and end_reason.");
        _notificationAttempts = meter.CreateCounter<long>("tavus.orchestrator.notifications.attempts", "{attempt}",
            "Deliveries of tenant notifications attempted, by outcome.");
        meter.CreateObservableGauge("tavus.orchestrator.notifications.oldest_undelivered.age", () => OldestUndelivered(), "s",
            "Age of the oldest tenant notification not yet delivered.");
        _tavusDuration = meter.CreateHistogram<double>("tavus.orchestrator.tavus.request.duration", "s",
            "Calls to Tavus' API, by operation and outcome (ok or the failure).");
    }

    /// <summary>The event_type of a callback refused before its body was read.</summary>
    public const string UnreadEventType = "unknown";

    /// <summary>A callback refused, and why.</summary>
    public void CallbackReceived(string eventType, string outcome) =>
        AddCallbacks(1, eventType, eventType == UnreadEventType ? EventKind.Unknown : Lifecycle.KindOf(eventType), outcome);

    /// <summary>
    /// Callbacks of one type a commit stored (or found stored), counted by the event writer once per
    /// run of equal ones rather than by each request: one add for a batch of 30 utterances.
    /// </summary>
    public void CallbacksCommitted(string eventType, EventKind kind, RecordOutcome outcome, int count) =>
        AddCallbacks(count, eventType, kind, outcome == RecordOutcome.Recorded ? "recorded" : "duplicate");

    /// <summary>An event_type Tavus does not document is <c>other</c>, so a sender cannot mint series.</summary>
    private void AddCallbacks(int count, string eventType, EventKind kind, string outcome) =>
        _callbacks.Add(count,
            new KeyValuePair<string, object?>("event_type", kind != EventKind.Unknown || eventType == UnreadEventType ? eventType : "other"),
            new KeyValuePair<string, object?>("outcome", outcome));

    public void Committed(int events, TimeSpan elapsed)
    {
        _commitDuration.Record(elapsed.TotalSeconds);
        _batchSize.Record(events);
    }

    public void ConversationEnded(string? tenantId, string? endReason) =>
        _ends.Add(1, new KeyValuePair<string, object?>("tenant_id", tenantId ?? "unknown"), new KeyValuePair<string, object?>("end_reason", endReason ?? "unknown"));

    /// <summary>For tenant notifications: one delivery attempt and how it ended (delivered, failed, timeout …).</summary>
    public void NotificationAttempt(string outcome) => _notificationAttempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void TavusCall(string operation, string outcome, TimeSpan elapsed) =>
        _tavusDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Where the writer's queue depth is read (set once by the event writer).</summary>
    public void ObserveQueueDepth(Func<int> depth) => _queueDepth = depth;

    /// <summary>Where live conversations by tenant are read.</summary>
    public void ObserveLiveConversations(Func<IEnumerable<Measurement<long>>> live) => _live = live;

    /// <summary>For tenant notifications: where the age in seconds of the oldest undelivered message is read (null: none).</summary>
    public void ObserveOldestUndelivered(Func<double?> ageSeconds) => _oldestUndelivered = ageSeconds;

    private IEnumerable<Measurement<double>> OldestUndelivered() =>
        _oldestUndelivered() is { } age ? [new Measurement<double>(age)] : [];
}
