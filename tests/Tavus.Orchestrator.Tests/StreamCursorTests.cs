using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data.Postgres;

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

public sealed class LiveNotificationsTests
{
    [Fact]
    public void A_batch_is_one_payload_naming_each_conversation_with_its_highest_id_and_the_lowest_overall()
    {
        var payloads = LiveNotifications.Payloads([("oa", 10), ("ob", 11), ("oa", 12)]);

        var notice = LiveNotifications.Parse(Assert.Single(payloads));
        Assert.NotNull(notice);
        Assert.Equal(10, notice.FromId);
        Assert.Equal([("oa", 12L), ("ob", 11L)], notice.Conversations);
    }

    [Fact]
    public void A_batch_too_large_for_one_notification_is_split_under_8000_bytes_losing_nothing()
    {
        var events = Enumerable.Range(0, 2000).Select(i => ($"o{i:x15}", (long)(1000 + i))).ToList();

        var payloads = LiveNotifications.Payloads(events);

        Assert.True(payloads.Count > 1);
        Assert.All(payloads, p => Assert.True(System.Text.Encoding.UTF8.GetByteCount(p) < 8000));
        var notices = payloads.Select(p => LiveNotifications.Parse(p)!).ToList();
        var named = notices.SelectMany(n => n.Conversations.Select(c => (c.ConversationId, n.FromId, c.HighestId))).ToList();
        Assert.Equal(events.Count, named.Count);
        Assert.All(named, c => Assert.True(c.FromId <= c.HighestId));
        Assert.Equal(events.Select(e => e.Item1).Order(), named.Select(c => c.ConversationId).Order());
    }

    [Fact]
    public void An_id_a_payload_cannot_carry_becomes_every_watched_conversation() =>
        Assert.True(LiveNotifications.Parse(Assert.Single(LiveNotifications.Payloads([("has space", 7)])))!.Everything);
}
