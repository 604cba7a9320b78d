using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Tavus.Orchestrator.Conversations;

/// <summary>In-process fan-out of committed events to live subscribers (the SSE stream).</summary>
public sealed class ConversationEvents
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Channel<ConversationEvent>, byte>> _subscribers = new();

    /// <summary>Subscribes to the events of one conversation; dispose to stop.</summary>
    public Subscription Subscribe(string conversationId)
    {
        // Bounded so that a stalled reader cannot grow memory; it drops the oldest, and the stream
        // re-reads the timeline from the database when it falls behind.
        var channel = Channel.CreateBounded<ConversationEvent>(new BoundedChannelOptions(256)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        var set = _subscribers.GetOrAdd(conversationId, _ => new());
        set.TryAdd(channel, 0);
        return new Subscription(channel.Reader, () =>
        {
            set.TryRemove(channel, out _);
            channel.Writer.TryComplete();
            if (set.IsEmpty)
            {
                _subscribers.TryRemove(new KeyValuePair<string, ConcurrentDictionary<Channel<ConversationEvent>, byte>>(conversationId, set));
            }
        });
    }

    public void Publish(string conversationId, ConversationEvent @event)
    {
        if (_subscribers.TryGetValue(conversationId, out var set))
        {
            foreach (var channel in set.Keys)
            {
                channel.Writer.TryWrite(@event);
            }
        }
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

    public sealed class Subscription(ChannelReader<ConversationEvent> reader, Action unsubscribe) : IDisposable
    {
        public ChannelReader<ConversationEvent> Reader { get; } = reader;

        public void Dispose() => unsubscribe();
    }
}
