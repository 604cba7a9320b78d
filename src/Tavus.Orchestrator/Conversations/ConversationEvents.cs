using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// In-process fan-out of committed events to live subscribers (the SSE streams). The writer
/// publishes what it commits; on PostgreSQL the listener publishes what other instances commit.
/// A quiet stream waits here and costs nothing: nothing polls.
/// </summary>
public sealed class ConversationEvents : IDisposable
{
    private const int RecentIds = 32;
    private readonly ConcurrentDictionary<string, Topic> _topics = new();
    private readonly ITimer _heartbeat;

    /// <summary>
    /// What a subscriber reads when the heartbeat is due: one timer for every stream wakes each
    /// as an event would (a timer and a cancellation per waiting stream cost far more).
    /// </summary>
    public static ConversationEvent Heartbeat { get; } = new()
    {
        Id = -1,
        ConversationId = "",
        EventType = "",
        Properties = "{}",
        DedupeKey = "",
    };

    public ConversationEvents(TimeProvider time, IOptions<EventOptions> options)
    {
        var period = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        _heartbeat = time.CreateTimer(_ => Beat(), null, period, period);
    }

    public void Dispose() => _heartbeat.Dispose();

    private void Beat()
    {
        foreach (var topic in _topics.Values)
        {
            Subscription[] subscribers;
            lock (topic)
            {
                subscribers = [.. topic.Subscribers];
            }
            foreach (var subscriber in subscribers)
            {
                subscriber.Poke();
            }
        }
    }

    /// <summary>Subscribes to the events of one conversation; dispose to stop.</summary>
    public Subscription Subscribe(string conversationId)
    {
        while (true)
        {
            var topic = _topics.GetOrAdd(conversationId, _ => new Topic());
            var subscription = new Subscription(this, conversationId, topic);
            lock (topic)
            {
                // A topic emptied and removed meanwhile is not reused: take the current one.
                if (!topic.Removed)
                {
                    topic.Subscribers.Add(subscription);
                    return subscription;
                }
            }
        }
    }

    public void Publish(string conversationId, ConversationEvent @event)
    {
        if (!_topics.TryGetValue(conversationId, out var topic))
        {
            return;
        }
        Subscription[] subscribers;
        lock (topic)
        {
            topic.Recent[topic.Next++ % RecentIds] = @event.Id;
            subscribers = [.. topic.Subscribers];
        }
        foreach (var subscriber in subscribers)
        {
            subscriber.Offer(@event);
        }
    }

    /// <summary>The conversations some stream of this instance watches.</summary>
    public IReadOnlyCollection<string> Watched() => [.. _topics.Keys];

    public bool IsWatched(string conversationId) => _topics.ContainsKey(conversationId);

    /// <summary>
    /// Whether this event went through here lately (the writer of this instance committed it, or
    /// it was read already): a notification of it needs no read.
    /// </summary>
    public bool WasPublished(string conversationId, long eventId)
    {
        if (!_topics.TryGetValue(conversationId, out var topic))
        {
            return false;
        }
        lock (topic)
        {
            return Array.IndexOf(topic.Recent, eventId) >= 0;
        }
    }

    private void Unsubscribe(string conversationId, Topic topic, Subscription subscription)
    {
        lock (topic)
        {
            topic.Subscribers.Remove(subscription);
            if (topic.Subscribers.Count == 0)
            {
                topic.Removed = true;
                _topics.TryRemove(new KeyValuePair<string, Topic>(conversationId, topic));
            }
        }
    }

    internal sealed class Topic
    {
        public HashSet<Subscription> Subscribers { get; } = [];
        public long[] Recent { get; } = new long[RecentIds];
        public int Next { get; set; }
        public bool Removed { get; set; }
    }

    private readonly ConcurrentDictionary<string, StrongBox<int>> _streamsByTenant = new();

    /// <summary>
    /// Takes one of a tenant's <paramref name="max"/> live streams; null when all are open. Dispose
    /// the result when the stream ends.
    /// </summary>
    public IDisposable? TryOpenStream(string tenantId, int max)
    {
        var count = _streamsByTenant.GetOrAdd(tenantId, _ => new StrongBox<int>());
        if (Interlocked.Increment(ref count.Value) > max)
        {
            Interlocked.Decrement(ref count.Value);
            return null;
        }
        return new StreamSlot(count);
    }

    private sealed class StreamSlot(StrongBox<int> count) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref count.Value);
            }
        }
    }

    /// <summary>One stream's queue of events; past its bound it drops the oldest and says from where.</summary>
    public sealed class Subscription : IDisposable
    {
        private const int Capacity = 256;
        private readonly ConversationEvents _hub;
        private readonly string _conversationId;
        private readonly Topic _topic;
        private readonly Channel<ConversationEvent> _channel;
        private long _missedFrom = long.MaxValue;

        internal Subscription(ConversationEvents hub, string conversationId, Topic topic)
        {
            _hub = hub;
            _conversationId = conversationId;
            _topic = topic;
            // Bounded so that a stalled reader cannot grow memory; what it drops, it re-reads by id.
            _channel = Channel.CreateBounded<ConversationEvent>(
                new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                dropped =>
                {
                    if (!ReferenceEquals(dropped, Heartbeat))
                    {
                        InterlockedMin(ref _missedFrom, dropped.Id);
                    }
                });
        }

        public ChannelReader<ConversationEvent> Reader => _channel.Reader;

        /// <summary>The lowest id dropped since the last call (null when none): the stream re-reads from it.</summary>
        public long? TakeMissedFrom()
        {
            var missed = Interlocked.Exchange(ref _missedFrom, long.MaxValue);
            return missed == long.MaxValue ? null : missed;
        }

        internal void Offer(ConversationEvent @event) => _channel.Writer.TryWrite(@event);

        /// <summary>The heartbeat, unless events are waiting (they wake the stream anyway).</summary>
        internal void Poke()
        {
            if (_channel.Reader.Count == 0)
            {
                _channel.Writer.TryWrite(Heartbeat);
            }
        }

        public void Dispose()
        {
            _hub.Unsubscribe(_conversationId, _topic, this);
            _channel.Writer.TryComplete();
        }

        private static void InterlockedMin(ref long target, long value)
        {
            var current = Volatile.Read(ref target);
            while (value < current)
            {
                var seen = Interlocked.CompareExchange(ref target, value, current);
                if (seen == current)
                {
                    return;
                }
                current = seen;
            }
        }
    }
}
