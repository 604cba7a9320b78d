using Microsoft.Extensions.Time.Testing;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Tests;

/// <summary>The rate limits' buckets: a budget per key, refilled with the clock, with no timer of their own.</summary>
public sealed class TokenBucketsTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_spent_bucket_says_how_long_to_wait_and_refills_with_the_clock()
    {
        var buckets = new TokenBuckets<string>(3, TimeSpan.FromMinutes(1), _time);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(buckets.TryTake("10.0.0.1", 1, out _));
        }

        Assert.False(buckets.TryTake("10.0.0.1", 1, out var wait));
        Assert.Equal(TimeSpan.FromSeconds(20), wait);               // a third of the minute buys one token
        Assert.True(buckets.TryTake("10.0.0.2", 1, out _));          // another key has its own budget
        Assert.False(buckets.TryTake("10.0.0.1", 0, out _));         // asking spends nothing and is still no

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(buckets.TryTake("10.0.0.1", 0, out _));
        Assert.True(buckets.TryTake("10.0.0.1", 1, out _));
        Assert.False(buckets.TryTake("10.0.0.1", 1, out _));

        _time.Advance(TimeSpan.FromHours(1));                        // never more than its capacity
        for (var i = 0; i < 3; i++)
        {
            Assert.True(buckets.TryTake("10.0.0.1", 1, out _));
        }
        Assert.False(buckets.TryTake("10.0.0.1", 1, out _));
    }

    [Fact]
    public void Many_keys_are_forgotten_once_their_buckets_are_full_again()
    {
        var buckets = new TokenBuckets<int>(1, TimeSpan.FromSeconds(1), _time);
        for (var key = 0; key < 10_000; key++)
        {
            Assert.True(buckets.TryTake(key, 1, out _));
        }
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(buckets.TryTake(-1, 1, out _));                  // the 10,001st key prunes the full ones
        Assert.Equal(1, buckets.Count);
        Assert.False(buckets.TryTake(-1, 1, out _));
    }

    [Fact]
    public void A_stranger_cycling_through_addresses_gets_at_most_one_scan_a_period()
    {
        // Two tokens a second, one spent: a bucket is full again half a second later.
        var buckets = new TokenBuckets<int>(2, TimeSpan.FromSeconds(1), _time);
        _time.Advance(TimeSpan.FromSeconds(1));
        for (var key = 0; key < 10_000; key++)
        {
            Assert.True(buckets.TryTake(key, 1, out _));
        }
        Assert.True(buckets.TryTake(-1, 1, out _));                  // a scan: nothing is full yet
        Assert.Equal(10_001, buckets.Count);

        _time.Advance(TimeSpan.FromMilliseconds(600));               // all full again, but within the period
        Assert.True(buckets.TryTake(-2, 1, out _));
        Assert.Equal(10_002, buckets.Count);

        _time.Advance(TimeSpan.FromMilliseconds(400));               // a period since the scan
        Assert.True(buckets.TryTake(-3, 1, out _));
        Assert.Equal(2, buckets.Count);                              // -2 is half full and stays; -3 is new
    }
}
