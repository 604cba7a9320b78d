using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Notifications over days of the test clock: retries on the schedule, the 5-day rule, the age of
/// the oldest waiting message. A host of their own, since moving its clock by days would put the
/// other notification tests' signatures outside a verifier's ±5 minute window.
/// </summary>
public sealed class NotificationRetryTests(NotificationFixture fixture) : NotificationIntegrationTests(fixture)
{
    [Fact]
    public async Task AReceiver_down_for_the_first_attempts_gets_the_message_later_with_the_same_id()
    {
        await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path), [NotificationTypes.Created]);
        Receiver.Status[Path] = 503;
        await Tenant.CreateConversationAsync();
        await Factory.DeliveredAsync(Receiver, Path, 1);
        await AttemptsRecordedAsync(1);
        await Factory.AdvanceAsync(TimeSpan.FromSeconds(6));           // 5 s, at most +20 %
        await Factory.DeliveredAsync(Receiver, Path, 2);
        await AttemptsRecordedAsync(2);
        Receiver.Status[Path] = 200;
        await Factory.AdvanceAsync(TimeSpan.FromMinutes(6));           // 5 min, at most +20 %
        var got = await Factory.DeliveredAsync(Receiver, Path, 3);
        await AttemptsRecordedAsync(3);

        Assert.Single(got.Select(r => r.Id).Distinct());
        var message = (await Tenant.GetFromJsonAsync<JsonElement>("/tenant/notifications/messages")).GetProperty("data").EnumerateArray().Single();
        Assert.Equal("delivered", message.Str("status"));
        Assert.Equal(got[0].Id, message.Str("id"));
        Assert.Equal([503, 503, 200], message.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("status_code").GetInt32()));
        Assert.Equal([1, 2, 3], message.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("number").GetInt32()));
    }

    [Fact]
    public async Task An_endpoint_failing_for_five_days_is_disabled_and_the_oldest_undelivered_age_is_measured()
    {
        using var age = new MetricCollector<double>(Factory.Services.GetRequiredService<IMeterFactory>(), "Tavus.Orchestrator",
            "tavus.orchestrator.notifications.oldest_undelivered.age");
        await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path), [NotificationTypes.Created]);
        Receiver.Status[Path] = 503;
        await Tenant.CreateConversationAsync();
        await Factory.DeliveredAsync(Receiver, Path, 1);
        await AttemptsRecordedAsync(1);
        Assert.True((await Tenant.GetFromJsonAsync<JsonElement>("/tenant/notifications")).GetProperty("enabled").GetBoolean());

        await Factory.AdvanceAsync(NotificationDispatcher.DisableAfterFailing + TimeSpan.FromMinutes(1));
        await Factory.DeliveredAsync(Receiver, Path, 2);
        age.RecordObservableInstruments();
        Assert.True(age.LastMeasurement?.Value >= NotificationDispatcher.DisableAfterFailing.TotalSeconds, $"age {age.LastMeasurement?.Value}");

        var endpoint = await Eventually.WaitAsync(() => Tenant.GetFromJsonAsync<JsonElement>("/tenant/notifications"),
            e => !e.GetProperty("enabled").GetBoolean(), "the endpoint disabled");
        Assert.Contains("5 days", endpoint.Str("disabled_reason"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_retry_and_a_recovery_are_sent_at_once_without_waiting_for_the_dispatchers_next_look()
    {
        var first = await FailedMessageAsync();
        await MendEndpointAsync();

        // The clock stands still and nothing runs the dispatcher by hand: only the routes' own
        // wake-up sends these (its next look is Notifications:PollMilliseconds away on this clock).
        Assert.Equal(HttpStatusCode.Accepted, (await Tenant.PostAsync($"/tenant/notifications/messages/{first.Id}/retry", null)).StatusCode);
        await Eventually.TrueAsync(() => Receiver.At(Path).Count == 2, "the retried message sent");
        await RecordedAsync(first.Id, MessageStatus.Delivered);
        await Factory.QueryAsync(db => db.NotificationMessages.Where(m => m.Id == first.Id)
            .ExecuteUpdateAsync(m => m.SetProperty(x => x.Status, MessageStatus.Failed)));
        var recover = await Tenant.PostAsJsonAsync("/tenant/notifications/recover", new { since = Factory.Time.GetUtcNow().AddHours(-1) });
        Assert.Equal(HttpStatusCode.Accepted, recover.StatusCode);
        await Eventually.TrueAsync(() => Receiver.At(Path).Count == 3, "the recovered message sent");
        Assert.All(Receiver.At(Path), r => Assert.Equal(first.Id, r.Id));
    }

    /// <summary>The next retry is scheduled from when an attempt is recorded, which follows the receiver's answer.</summary>
    private Task AttemptsRecordedAsync(int count) =>
        Eventually.TrueAsync(() => Factory.QueryAsync(db => db.NotificationAttempts.CountAsync(
            a => db.NotificationMessages.Any(m => m.Id == a.MessageId && m.TenantId == Tenant.Id))).ContinueWith(t => t.Result == count, TaskScheduler.Default),
            $"{count} attempts recorded");
}
