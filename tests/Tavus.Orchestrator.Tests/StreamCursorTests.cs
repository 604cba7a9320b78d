using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

public sealed class StreamCursorTests
{
    [Fact]
    public void In_order_events_carry_their_own_id()
    {
        Assert.True(StreamCursor.TryParse(null, out var cursor));

        Assert.Equal("5", cursor.Sent(5, 9));
        Assert.Equal("9", cursor.Sent(9, null));
        Assert.Equal("12", cursor.Sent(12, null));
    }

    [Fact]
    public void A_replay_out_of_id_order_lists_what_is_past_its_floor_until_the_gap_closes()
    {
        Assert.True(StreamCursor.TryParse(null, out var cursor));

        var afterJoin = cursor.Sent(9, 5);   // the join (id 9) first; the end (id 5) still to send
        Assert.Equal("4,9", afterJoin);
        Assert.Equal("9", cursor.Sent(5, null));

        Assert.True(StreamCursor.TryParse(afterJoin, out var resumed));
        Assert.True(resumed.IsDelivered(3));
        Assert.True(resumed.IsDelivered(9));
        Assert.False(resumed.IsDelivered(5));
        Assert.False(resumed.IsDelivered(10));
    }

    [Theory]
    [InlineData("1e300")]
    [InlineData("-1")]
    [InlineData("12,")]
    [InlineData("99999999999999999999")]
    [InlineData("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18")]
    public void A_position_the_service_never_sent_is_refused(string header) =>
        Assert.False(StreamCursor.TryParse(header, out _));
}
