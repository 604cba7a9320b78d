using System.Security.Cryptography;
using System.Text.Json;
using Tavus.Simulator.Callbacks;
using Tavus.Simulator.Control;
using Tavus.Simulator.Hosting;

namespace Tavus.Simulator.Conversations;

/// <summary>
/// One room: its participants, its timers and the callbacks it emits. Every change happens under the
/// conversation's own lock, and a single timer is armed for the next thing due (the replica joining,
/// or the earliest applicable end), so the rules are decided in one place rather than by racing timers.
/// </summary>
internal sealed partial class SimulatedConversation : IDisposable
{
    private readonly Lock _gate = new();
    private readonly ConversationSettings _settings;
    private readonly SimulatorClock _clock;
    private readonly FaultInjector _faults;
    private readonly DeliveryQueue? _deliveries;
    private readonly Action<SimulatedConversation, DateTimeOffset> _onEnded;
    private readonly ILogger _logger;
    private readonly DateTimeOffset _maxCallDeadline;
    private readonly DateTimeOffset _absentDeadline;
    private readonly DateTimeOffset _replicaJoinAt;
    private readonly List<string> _participants = [];
    private readonly List<ConversationEventResponse> _events = [];
    private readonly List<OutgoingCallback> _held = [];
    private ITimer? _timer;
    private DateTimeOffset? _leftDeadline;
    private DateTimeOffset _updatedAt;
    private DateTimeOffset? _endedAt;
    private string? _shutdownReason;
    private bool _anyoneJoined;
    private bool _replicaJoined;
    private bool _disposed;

    public SimulatedConversation(
        ConversationSettings settings,
        SimulatorClock clock,
        int replicaJoinDelaySeconds,
        FaultInjector faults,
        CallbackSender sender,
        Action<SimulatedConversation, DateTimeOffset> onEnded,
        ILogger logger)
    {
        _settings = settings;
        _clock = clock;
        _faults = faults;
        _onEnded = onEnded;
        _logger = logger;
        _deliveries = settings.CallbackUrl is null ? null : new DeliveryQueue(sender, settings.Id, new Uri(settings.CallbackUrl));
        _updatedAt = settings.CreatedAt;
        _maxCallDeadline = clock.After(settings.CreatedAt, settings.MaxCallDuration);
        _absentDeadline = clock.After(settings.CreatedAt, settings.ParticipantAbsentTimeout);
        _replicaJoinAt = clock.After(settings.CreatedAt, replicaJoinDelaySeconds);
    }

    public string Id => _settings.Id;

    public long Sequence => _settings.Sequence;

    public bool TestMode => _settings.TestMode;

    public IReadOnlyList<DeliveryRecord> Deliveries => _deliveries?.Deliveries ?? [];

    /// <summary>Arms the timers; a test-mode conversation is born ended, with no replica and no callbacks.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_settings.TestMode)
            {
                _endedAt = _settings.CreatedAt;
                return;
            }

            _timer = _clock.TimeProvider.CreateTimer(OnTimer, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Advance(_settings.CreatedAt);
        }
    }

    public ParticipantChange Join(string? participantId)
    {
        lock (_gate)
        {
            var now = _clock.Now;
            Advance(now);
            if (_endedAt is not null)
            {
                return Change(ParticipantOutcome.NotLive, participantId);
            }

            participantId ??= "p" + RandomNumberGenerator.GetHexString(11, lowercase: true);
            if (_participants.Contains(participantId))
            {
                return Change(ParticipantOutcome.AlreadyInRoom, participantId);
            }

            _participants.Add(participantId);
            _anyoneJoined = true;
            _leftDeadline = null;
            _updatedAt = now;
            Advance(now);
            return Change(ParticipantOutcome.Done, participantId);
        }
    }

    public ParticipantChange Leave(string? participantId)
    {
        lock (_gate)
        {
            var now = _clock.Now;
            Advance(now);
            if (_endedAt is not null)
            {
                return Change(ParticipantOutcome.NotLive, participantId);
            }

            if (_participants.Count == 0)
            {
                return Change(ParticipantOutcome.RoomEmpty, participantId);
            }

            participantId ??= _participants[^1];
            if (!_participants.Remove(participantId))
            {
                return Change(ParticipantOutcome.NotInRoom, participantId);
            }

            if (_participants.Count == 0)
            {
                _leftDeadline = _clock.After(now, _settings.ParticipantLeftTimeout);
            }

            _updatedAt = now;
            Advance(now);
            return Change(ParticipantOutcome.Done, participantId);
        }
    }

    /// <summary>Ends the conversation now; false when it had already ended (nothing is sent again).</summary>
    public bool End(string shutdownReason)
    {
        lock (_gate)
        {
            var now = _clock.Now;
            Advance(now);
            if (_endedAt is not null)
            {
                return false;
            }

            EndCore(shutdownReason, now);
            Reschedule(now);
            return true;
        }
    }

    public ConversationResponse ToResponse(bool verbose = false, bool created = false)
    {
        lock (_gate)
        {
            return new ConversationResponse(
                _settings.Id,
                _settings.Name,
                _settings.Url,
                _endedAt is null ? ConversationStatus.Active : ConversationStatus.Ended,
                _settings.CallbackUrl,
                _settings.ReplicaId,
                _settings.PersonaId,
                SimulatorJson.FormatTimestamp(_settings.CreatedAt),
                created ? null : SimulatorJson.FormatTimestamp(_updatedAt),
                _shutdownReason,
                _settings.MeetingToken,
                verbose ? [.. _events] : null);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void EndCore(string reason, DateTimeOffset at)
    {
        _endedAt = at;
        _updatedAt = at;
        _shutdownReason = reason;
        _participants.Clear();
        _leftDeadline = null;

        var replicaId = _settings.ReplicaId;
        Emit(EventTypes.Shutdown, MessageTypes.System, new ShutdownProperties(replicaId, reason), at);
        Emit(
            EventTypes.TranscriptionReady,
            MessageTypes.Application,
            new TranscriptionReadyProperties(replicaId, TranscriptWriter.Write(_settings, _anyoneJoined)),
            at);
        if (_settings.EnableRecording)
        {
            var s3Key = $"recordings/{_settings.Id}/{_settings.CreatedAt.ToUnixTimeSeconds()}.mp4";
            var duration = _clock.SimulatedSeconds(at - _settings.CreatedAt);
            Emit(EventTypes.RecordingReady, MessageTypes.Application, new RecordingReadyProperties(_settings.RecordingBucketName, s3Key, duration), at);
        }

        // Callbacks held back by the reorder fault go out now, the last emitted first.
        for (var i = _held.Count - 1; i >= 0; i--)
        {
            _deliveries?.Enqueue(_held[i]);
        }

        _held.Clear();
        _onEnded(this, at);
        Log.Ended(_logger, _settings.Id, reason);
    }

    private void Emit(string eventType, string messageType, object properties, DateTimeOffset at)
    {
        var timestamp = SimulatorJson.FormatTimestamp(at);
        var body = new CallbackBody(properties, _settings.Id, _settings.CallbackUrl, eventType, messageType, timestamp);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, SimulatorJson.Options);
        JsonElement element;
        using (var document = JsonDocument.Parse(bytes))
        {
            element = document.RootElement.Clone();
        }

        _events.Add(new ConversationEventResponse(eventType, messageType, timestamp, element.GetProperty("properties")));
        if (_deliveries is null)
        {
            return;
        }

        var faults = _faults.ForCallback();
        var outgoing = new OutgoingCallback(eventType, bytes, element, faults.Drop, faults.Duplicate);
        if (faults.Hold)
        {
            _held.Add(outgoing);
        }
        else
        {
            _deliveries.Enqueue(outgoing);
        }
    }

    private ParticipantChange Change(ParticipantOutcome outcome, string? participantId) =>
        new(outcome, participantId, [.. _participants]);

    // Event ids 1100–1199: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 1100, Level = LogLevel.Error, Message = "Timer of conversation {ConversationId} failed")]
        public static partial void TimerFailed(ILogger logger, Exception exception, string conversationId);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Conversation {ConversationId} ended: {ShutdownReason}")]
        public static partial void Ended(ILogger logger, string conversationId, string shutdownReason);
    }
}

internal static class ConversationStatus
{
    public const string Active = "active";
    public const string Ended = "ended";
}

internal static class MessageTypes
{
    public const string System = "system";
    public const string Application = "application";
}
