using System.Collections.Concurrent;

namespace Tavus.Orchestrator.Hosting;

/// <summary>
/// Token buckets per key, refilled when they are used rather than by a timer: an idle service has
/// nothing to wake up for. (System.Threading.RateLimiting's partitioned limiters tick every 100 ms
/// for as long as they exist; with two of them the idle service woke 40 times a second, ten times
/// as often as without.) Each bucket holds up to <c>capacity</c> tokens and gains
/// <c>capacity</c> per <c>period</c>, continuously. Full buckets are forgotten once many keys are
/// held, at most once a period: a stranger cycling through addresses cannot make every request a scan.
/// </summary>
public sealed class TokenBuckets<TKey>(int capacity, TimeSpan period, TimeProvider time) where TKey : notnull
{
    /// <summary>Past this many keys (a scan of addresses), buckets that have filled up again are dropped.</summary>
    private const int PruneAbove = 10_000;

    private readonly ConcurrentDictionary<TKey, Bucket> _buckets = new();
    private readonly double _perTick = capacity / (double)period.Ticks;
    private long _lastPrune = time.GetTimestamp();

    /// <summary>Keys held now.</summary>
    public int Count => _buckets.Count;

    /// <summary>
    /// Takes <paramref name="count"/> tokens if the key's bucket holds them (zero asks without
    /// taking); else false, with how long until it will.
    /// </summary>
    public bool TryTake(TKey key, int count, out TimeSpan retryAfter)
    {
        var now = time.GetTimestamp();
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            var lastPrune = Interlocked.Read(ref _lastPrune);
            if (_buckets.Count >= PruneAbove && time.GetElapsedTime(lastPrune, now) >= period
                && Interlocked.CompareExchange(ref _lastPrune, now, lastPrune) == lastPrune)
            {
                Prune(now);
            }
            bucket = _buckets.GetOrAdd(key, _ => new Bucket(capacity, now));
        }
        lock (bucket)
        {
            var elapsed = time.GetElapsedTime(bucket.Stamp, now).Ticks;
            bucket.Tokens = Math.Min(capacity, bucket.Tokens + elapsed * _perTick);
            bucket.Stamp = now;
            var wanted = Math.Max(count, 1);
            if (bucket.Tokens >= wanted)
            {
                bucket.Tokens -= count;
                retryAfter = TimeSpan.Zero;
                return true;
            }
            retryAfter = TimeSpan.FromTicks((long)Math.Ceiling((wanted - bucket.Tokens) / _perTick));
            return false;
        }
    }

    private void Prune(long now)
    {
        foreach (var (key, bucket) in _buckets)
        {
            lock (bucket)
            {
                if (bucket.Tokens + time.GetElapsedTime(bucket.Stamp, now).Ticks * _perTick >= capacity)
                {
                    _buckets.TryRemove(key, out _);
                }
            }
        }
    }

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens = tokens;
        public long Stamp = stamp;
    }
}
