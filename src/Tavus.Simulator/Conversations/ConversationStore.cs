using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Tavus.Simulator.Callbacks;
using Tavus.Simulator.Control;

namespace Tavus.Simulator.Conversations;

/// <summary>Every conversation the simulator knows, in memory only: a restart forgets them, as a simulator may.</summary>
internal sealed class ConversationStore : IDisposable
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
            _logger.LogInformation("Created conversation {ConversationId} (test mode: {TestMode})", id, testMode);
            conversation.Start();
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
        foreach (var conversation in _conversations.Values)
        {
            conversation.Dispose();
        }
    }

    private void OnEnded(SimulatedConversation conversation)
    {
        if (!conversation.TestMode)
        {
            Interlocked.Decrement(ref _live);
        }
    }
}
