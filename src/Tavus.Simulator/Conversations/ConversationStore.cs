using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Tavus.Simulator.Callbacks;
using Tavus.Simulator.Control;

namespace Tavus.Simulator.Conversations;

/// <summary>
/// Every conversation the simulator knows, in memory only: a restart forgets them, as a simulator may.
/// An ended one is forgotten <see cref="SimulatorOptions.RetainEndedSeconds"/> after it ended, so a
/// simulator under steady load holds a bounded number of them rather than every one it ever made.
/// </summary>
internal sealed partial class ConversationStore : IDisposable
{
    public const int DefaultMaxCallDuration = 3600;
    public const int DefaultParticipantLeftTimeout = 0;
    public const int DefaultParticipantAbsentTimeout = 300;
    public const string DefaultRecordingBucket = "tavus-simulator-recordings";

    private readonly ConcurrentDictionary<string, SimulatedConversation> _conversations = new(StringComparer.Ordinal);
    private readonly Lock _createGate = new();
    private readonly SimulatorOptions _options;
    private readonly SimulatorClock _clock;
    private readonly FaultInjector _faults;
    private readonly CallbackSender _sender;
    private readonly ILogger<ConversationStore> _logger;
    private long _sequence;
    private int _live;

    // Ended conversations by when they are to be forgotten, and one timer armed for the earliest:
    // forgetting costs a heap operation per conversation, never a scan of all of them.
    private readonly Lock _retentionGate = new();
    private readonly PriorityQueue<SimulatedConversation, DateTimeOffset> _ended = new();
    private readonly ITimer _forgetTimer;
    private DateTimeOffset? _forgetTimerDue;
    private bool _disposed;

    public ConversationStore(
        IOptions<SimulatorOptions> options,
        TimeProvider timeProvider,
        FaultInjector faults,
        CallbackSender sender,
        ILogger<ConversationStore> logger)
    {
        _options = options.Value;
        _clock = new SimulatorClock(timeProvider, _options.TimeScale);
        _faults = faults;
        _sender = sender;
        _logger = logger;
        _forgetTimer = timeProvider.CreateTimer(OnForgetTimer, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Creates and starts a conversation; null when the account's concurrency limit is reached.</summary>
    public SimulatedConversation? TryCreate(CreateConversationRequest request)
    {
        var properties = request.Properties;
        var testMode = request.TestMode == true;
        lock (_createGate)
        {
            // Only live conversations count, as at Tavus; a test-mode one is born ended.
            if (!testMode && Volatile.Read(ref _live) >= _options.MaxConcurrentConversations)
            {
                return null;
            }

            string id;
            do
            {
                id = "c" + RandomNumberGenerator.GetHexString(11, lowercase: true);
            }
            while (_conversations.ContainsKey(id));

            var settings = new ConversationSettings(
                id,
                ++_sequence,
                request.ConversationName ?? "New Conversation",
                $"{_options.RoomBaseUrl.TrimEnd('/')}/{id}",
                request.CallbackUrl,
                request.ReplicaId ?? "r" + RandomNumberGenerator.GetHexString(11, lowercase: true),
                request.PersonaId,
                request.ConversationalContext,
                request.CustomGreeting,
                request.RequireAuth == true ? RandomNumberGenerator.GetHexString(48, lowercase: true) : null,
                properties?.MaxCallDuration ?? DefaultMaxCallDuration,
                properties?.ParticipantLeftTimeout ?? DefaultParticipantLeftTimeout,
                properties?.ParticipantAbsentTimeout ?? DefaultParticipantAbsentTimeout,
                properties?.EnableRecording == true,
                properties?.RecordingS3BucketName ?? DefaultRecordingBucket,
                testMode,
                _clock.Now);

            var conversation = new SimulatedConversation(
                settings, _clock, _options.ReplicaJoinDelaySeconds, _faults, _sender, OnEnded, _logger);
            if (!testMode)
            {
                Interlocked.Increment(ref _live);
            }

            _conversations[id] = conversation;
            Log.Created(_logger, id, testMode);
            conversation.Start();
            if (testMode)
            {
                // Born ended, so it never reports an end of its own.
                Retain(conversation, settings.CreatedAt);
            }

            return conversation;
        }
    }

    public SimulatedConversation? Find(string id) => _conversations.GetValueOrDefault(id);

    /// <summary>Deletes a conversation, ending it first if it is live; false when unknown.</summary>
    public bool Delete(string id)
    {
        if (!_conversations.TryGetValue(id, out var conversation))
        {
            return false;
        }

        conversation.End(ShutdownReasons.RoomDeleted);
        if (_conversations.TryRemove(id, out _))
        {
            conversation.Dispose();
        }

        return true;
    }

    /// <summary>One page of conversations, newest first, and how many match in all.</summary>
    public (IReadOnlyList<ConversationResponse> Page, int TotalCount) List(string? status, int limit, int page)
    {
        var matching = _conversations.Values
            .OrderByDescending(c => c.Sequence)
            .Select(c => c.ToResponse())
            .Where(c => status is null || c.Status == status)
            .ToList();
        var skip = (long)(page - 1) * limit;
        IReadOnlyList<ConversationResponse> slice = skip >= matching.Count ? [] : matching.Skip((int)skip).Take(limit).ToList();
        return (slice, matching.Count);
    }

    public void Dispose()
    {
        lock (_retentionGate)
        {
            _disposed = true;
            _forgetTimer.Dispose();
        }

        foreach (var conversation in _conversations.Values)
        {
            conversation.Dispose();
        }
    }

    /// <summary>Called under the conversation's own lock, at its end.</summary>
    private void OnEnded(SimulatedConversation conversation, DateTimeOffset endedAt)
    {
        if (!conversation.TestMode)
        {
            Interlocked.Decrement(ref _live);
        }

        Retain(conversation, endedAt);
    }

    private void Retain(SimulatedConversation conversation, DateTimeOffset endedAt)
    {
        var forgetAt = _clock.After(endedAt, _options.RetainEndedSeconds);
        lock (_retentionGate)
        {
            if (_disposed)
            {
                return;
            }

            _ended.Enqueue(conversation, forgetAt);
            if (_forgetTimerDue is not { } due || forgetAt < due)
            {
                ArmForgetTimer(forgetAt);
            }
        }
    }

    private void OnForgetTimer(object? state)
    {
        try
        {
            var due = new List<SimulatedConversation>();
            lock (_retentionGate)
            {
                if (_disposed)
                {
                    return;
                }

                _forgetTimerDue = null;
                var now = _clock.Now;
                while (_ended.TryPeek(out _, out var forgetAt) && forgetAt <= now)
                {
                    due.Add(_ended.Dequeue());
                }

                if (_ended.TryPeek(out _, out var next))
                {
                    ArmForgetTimer(next);
                }
            }

            // Outside the retention lock: disposing takes the conversation's lock, which is held
            // while it reports its end to Retain.
            var forgotten = 0;
            foreach (var conversation in due)
            {
                // Only if still this very conversation: a deleted one is already gone.
                if (_conversations.TryRemove(KeyValuePair.Create(conversation.Id, conversation)))
                {
                    conversation.Dispose();
                    forgotten++;
                }
            }

            if (forgotten > 0)
            {
                Log.Forgotten(_logger, forgotten, _options.RetainEndedSeconds, _conversations.Count);
            }
        }
        catch (Exception ex)
        {
            // An exception escaping a timer callback would take the whole process down.
            Log.ForgetFailed(_logger, ex);
        }
    }

    private void ArmForgetTimer(DateTimeOffset at)
    {
        _forgetTimerDue = at;
        _forgetTimer.Change(SimulatorClock.DueTime(_clock.Now, at), Timeout.InfiniteTimeSpan);
    }

    // Event ids 1000–1099: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Created conversation {ConversationId} (test mode: {TestMode})")]
        public static partial void Created(ILogger logger, string conversationId, bool testMode);

        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Forgot {Count} conversations ended {RetainEndedSeconds} simulated seconds ago; {Kept} kept")]
        public static partial void Forgotten(ILogger logger, int count, int retainEndedSeconds, int kept);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Forgetting ended conversations failed")]
        public static partial void ForgetFailed(ILogger logger, Exception exception);
    }
}
