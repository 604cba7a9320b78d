using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StandardWebhooks;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// A host whose clock starts at the real time, so that a verifier with a ±5 minute window (the
/// StandardWebhooks package) accepts what it signs. Attempts may take their longest (120 s), so a
/// lease (that plus a minute) outlasts the tests' clock moves of two minutes: the dispatcher sends as
/// soon as a message is written, and an attempt in flight when the clock jumps past its lease would
/// be made again.
/// </summary>
public sealed class NotificationFixture() : OrchestratorFixture(
    new() { ["Notifications:AttemptTimeoutSeconds"] = "120" }, new FakeTimeProvider(DateTimeOffset.UtcNow));

/// <summary>Tenant notifications end to end: a real Kestrel receiver, verified by another implementation than our signer.</summary>
public sealed class NotificationTests(NotificationFixture fixture) : NotificationIntegrationTests(fixture)
{
    [Fact]
    public async Task A_signed_conversation_ended_arrives_with_its_transcript_ready_and_verifies()
    {
        var secret = await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path));
        Assert.False((await Tenant.GetFromJsonAsync<JsonElement>("/tenant/notifications")).TryGetProperty("secret", out _));

        var id = (await Tenant.CreateConversationAsync(new { participant_absent_timeout = 120 })).Str("conversation_id");
        await Factory.AdvanceAsync(TimeSpan.FromSeconds(3));
        await Tenant.WaitForStatusAsync(id, "active");
        await Factory.AdvanceAsync(TimeSpan.FromSeconds(118));
        await Tenant.WaitForConversationAsync(id, c => c.GetProperty("transcript").ValueKind == JsonValueKind.Array, "ended with a transcript");

        var got = await Factory.DeliveredAsync(Receiver, Path, 4);
        Assert.Equal(Order.Order(StringComparer.Ordinal), got.Select(r => r.Type).Order(StringComparer.Ordinal));
        var verifier = new StandardWebhook(secret);
        foreach (var r in got)
        {
            verifier.Verify(r.Body, r.HeaderDictionary());
            Assert.StartsWith("msg_", r.Id, StringComparison.Ordinal);
        }
        var ended = JsonDocument.Parse(got.Single(r => r.Type == NotificationTypes.Ended).Body).RootElement;
        Assert.Equal(id, ended.GetProperty("data").Str("conversation_id"));
        Assert.Equal("ended", ended.GetProperty("data").Str("status"));
        Assert.Equal("participant_absent_timeout", ended.GetProperty("data").Str("end_reason"));
        Assert.False(ended.GetProperty("data").TryGetProperty("events", out _));
        var transcript = JsonDocument.Parse(got.Single(r => r.Type == NotificationTypes.TranscriptReady).Body).RootElement;
        Assert.Equal(JsonValueKind.Array, transcript.GetProperty("data").GetProperty("transcript").ValueKind);

        // The receiver has them before each attempt is recorded: wait for the log.
        var log = await Eventually.WaitAsync(() => Tenant.GetFromJsonAsync<JsonElement>("/tenant/notifications/messages?status=delivered"),
            l => l.GetProperty("data").GetArrayLength() == 4, "4 delivered messages in the log");
        Assert.All(log.GetProperty("data").EnumerateArray(), m => Assert.Equal(200, m.GetProperty("attempts")[0].GetProperty("status_code").GetInt32()));
    }

    [Fact]
    public async Task A_message_goes_out_when_it_is_committed_without_waiting_for_a_look()
    {
        // Nothing runs a pass here and the test clock stands still, so the dispatcher's next look
        // never comes: only the commit's wake-up sends the message.
        await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path), [NotificationTypes.Created]);
        await Tenant.CreateConversationAsync();

        await Eventually.TrueAsync(() => Receiver.At(Path).Count == 1, "conversation.created sent on commit");
        Assert.Equal(NotificationTypes.Created, Receiver.At(Path).Single().Type);
    }

    private static readonly string[] UnknownTypes = ["conversation.nope"];

    private static readonly string[] Order = [NotificationTypes.Created, NotificationTypes.Active, NotificationTypes.Ended, NotificationTypes.TranscriptReady];

    [Fact]
    public async Task During_a_rotation_each_message_carries_two_signatures_and_either_secret_verifies_it()
    {
        var old = await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path), [NotificationTypes.Created]);
        var rotated = await (await Tenant.PostAsync("/tenant/notifications/secret", null)).ReadJsonAsync();
        var current = rotated.Str("secret");
        Assert.NotEqual(old, current);

        await Tenant.CreateConversationAsync();
        var message = (await Factory.DeliveredAsync(Receiver, Path, 1)).Single();
        var signatures = message.Headers["webhook-signature"].Split(' ');
        Assert.Equal(2, signatures.Length);
        // The package checks only the first of several signatures (see SigningTests): each entry on its own.
        new StandardWebhook(current).Verify(message.Body, message.HeaderDictionary());
        message.Headers["webhook-signature"] = signatures[1];
        new StandardWebhook(old).Verify(message.Body, message.HeaderDictionary());
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(() =>
            new StandardWebhook(current).Verify(message.Body.Replace("created", "ended", StringComparison.Ordinal), message.HeaderDictionary()));
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_and_recover_sends_the_failed_message_again_with_the_same_id()
    {
        var first = await FailedMessageAsync();
        var endpoint = await Eventually.WaitAsync(() => Tenant.GetFromJsonAsync<JsonElement>("/tenant/notifications"),
            e => !e.GetProperty("enabled").GetBoolean(), "the endpoint disabled");
        Assert.Contains("410", endpoint.Str("disabled_reason"), StringComparison.Ordinal);
        await Eventually.TrueAsync(async () => (await FailedAsync()).Count == 1, "the message failed");

        await MendEndpointAsync();
        var recover = await Tenant.PostAsJsonAsync("/tenant/notifications/recover", new { since = Factory.Time.GetUtcNow().AddHours(-1) });
        Assert.Equal(HttpStatusCode.Accepted, recover.StatusCode);
        Assert.Equal(1, (await recover.ReadJsonAsync()).GetProperty("count").GetInt32());
        var again = (await Factory.DeliveredAsync(Receiver, Path, 2))[1];
        Assert.Equal(first.Id, again.Id);
        // The receiver has the message before the dispatcher records its answer; until then the
        // attempt is in flight and a retry is refused with 409.
        await RecordedAsync(first.Id, MessageStatus.Delivered);

        var retry = await Tenant.PostAsync($"/tenant/notifications/messages/{first.Id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(first.Id, (await Factory.DeliveredAsync(Receiver, Path, 3))[2].Id);
        var tooOld = await Tenant.PostAsJsonAsync("/tenant/notifications/recover", new { since = Factory.Time.GetUtcNow().AddDays(-15) });
        Assert.Equal(HttpStatusCode.BadRequest, tooOld.StatusCode);

        async Task<List<JsonElement>> FailedAsync() =>
            [.. (await Tenant.GetFromJsonAsync<JsonElement>("/tenant/notifications/messages?status=failed")).GetProperty("data").EnumerateArray()];
    }

    [Fact]
    public async Task A_slow_endpoint_of_one_tenant_does_not_hold_another_tenants_messages()
    {
        using var other = await Factory.CreateTenantAsync("other");
        var otherPath = $"/{other.Id}";
        await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path), [NotificationTypes.Created]);
        await Factory.SetEndpointAsync(other, Receiver.Url(otherPath), [NotificationTypes.Created]);
        var slow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Receiver.Hold[Path] = slow;
        for (var i = 0; i < 6; i++)
        {
            await Tenant.CreateConversationAsync();
        }
        await Factory.Dispatcher().RunOnceAsync(CancellationToken.None);
        await other.CreateConversationAsync();

        await Factory.DeliveredAsync(Receiver, otherPath, 1);
        Assert.Empty(Receiver.At(Path));
        var inFlight = await Factory.QueryAsync(db => db.NotificationMessages.CountAsync(m => m.TenantId == Tenant.Id && m.ClaimedUntil != null));
        Assert.Equal(4, inFlight);  // Notifications:MaxConcurrentPerEndpoint

        slow.SetResult();
        await Factory.DeliveredAsync(Receiver, Path, 6);
    }

    [Fact]
    public async Task A_duplicate_callback_makes_no_second_message()
    {
        await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path), [NotificationTypes.Ended]);
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);
        Assert.Equal("recorded", (await (await Tenant.PostFixtureAsync("shutdown_max_call_duration.json", id, token)).ReadJsonAsync()).Str("status"));
        Assert.Equal("duplicate", (await (await Tenant.PostFixtureAsync("shutdown_max_call_duration.json", id, token)).ReadJsonAsync()).Str("status"));

        await Factory.DeliveredAsync(Receiver, Path, 1);
        Assert.Equal(1, await Factory.QueryAsync(db => db.NotificationMessages.CountAsync(m => m.TenantId == Tenant.Id)));
    }

    [Fact]
    public async Task Endpoint_requests_are_checked_and_the_secret_is_shown_once()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Tenant.GetAsync("/tenant/notifications")).StatusCode);
        var bad = await Tenant.PutAsJsonAsync("/tenant/notifications", new { url = "ftp://example.com/x", event_types = UnknownTypes });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("url", out _));
        Assert.True(errors.TryGetProperty("event_types", out _));

        var first = await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path));
        var second = await Tenant.PutAsJsonAsync("/tenant/notifications", new { url = Receiver.Url(Path) });
        Assert.False((await second.ReadJsonAsync()).TryGetProperty("secret", out _));
        Assert.StartsWith("whsec_", first, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await Tenant.DeleteAsync("/tenant/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Tenant.GetAsync("/tenant/notifications")).StatusCode);

        using var admin = Factory.CreateAdminClient();
        var set = await admin.PutAsJsonAsync($"/admin/tenants/{Tenant.Id}/notifications", new { url = Receiver.Url(Path) });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.StartsWith("whsec_", (await set.ReadJsonAsync()).Str("secret"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsJsonAsync("/admin/tenants/nobody-here/notifications", new { url = Receiver.Url(Path) })).StatusCode);
    }
}

public static class NotificationScenario
{
    public static NotificationDispatcher Dispatcher(this OrchestratorFactory factory) => factory.Services.GetRequiredService<NotificationDispatcher>();

    /// <summary>Sets the tenant's endpoint and returns its secret (shown on the first PUT only).</summary>
    public static async Task<string> SetEndpointAsync(this OrchestratorFactory factory, HttpClient tenant, string url, string[]? types = null)
    {
        var response = await tenant.PutAsJsonAsync("/tenant/notifications", new { url, event_types = types });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadJsonAsync();
        return body.TryGetProperty("secret", out var secret) ? secret.GetString()! : "";
    }

    /// <summary>
    /// Moves the clock once no attempt is in flight: the dispatcher sends as soon as a message is
    /// written, and an attempt still unrecorded when the clock jumps past its lease would be made again.
    /// </summary>
    public static async Task AdvanceAsync(this OrchestratorFactory factory, TimeSpan by)
    {
        await Eventually.TrueAsync(() => factory.QueryAsync(db => db.NotificationMessages.AllAsync(m => m.ClaimToken == null)), "no attempt in flight");
        factory.Time.Advance(by);
    }

    /// <summary>Runs the dispatcher until the receiver got at least <paramref name="count"/> requests at the path.</summary>
    public static Task<IReadOnlyList<Received>> DeliveredAsync(this OrchestratorFactory factory, NotificationReceiver receiver, string path, int count) =>
        Eventually.WaitAsync(async () =>
        {
            await factory.Dispatcher().RunOnceAsync(CancellationToken.None);
            await Task.Delay(20);
            return receiver.At(path);
        }, got => got.Count >= count, $"{count} notifications at {path}");
}
