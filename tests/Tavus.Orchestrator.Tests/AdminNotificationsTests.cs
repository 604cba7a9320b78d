using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Tavus.Orchestrator.Tests;

/// <summary>The operator's view of notification messages: every tenant's failed ones, and a retry of one.</summary>
public sealed class AdminNotificationsTests(NotificationFixture fixture) : NotificationIntegrationTests(fixture)
{
    [Fact]
    public async Task An_operator_sees_a_tenants_failed_message_and_sends_it_again_with_the_same_id()
    {
        var first = await FailedMessageAsync();
        using var admin = Factory.CreateAdminClient();

        var failed = await Eventually.WaitAsync(
            async () => (await admin.GetFromJsonAsync<JsonElement>($"/admin/notifications/messages?tenant_id={Tenant.Id}&status=failed")).GetProperty("data"),
            data => data.GetArrayLength() == 1, "the message listed as failed");
        Assert.Equal(first.Id, failed[0].Str("id"));
        Assert.Equal(Tenant.Id, failed[0].Str("tenant_id"));
        Assert.Equal(410, failed[0].GetProperty("attempts")[0].GetProperty("status_code").GetInt32());
        var everyTenant = await admin.GetFromJsonAsync<JsonElement>("/admin/notifications/messages?status=failed&limit=100");
        Assert.Contains(everyTenant.GetProperty("data").EnumerateArray(), m => m.Str("id") == first.Id);

        await MendEndpointAsync();
        var retry = await admin.PostAsync($"/admin/notifications/messages/{first.Id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(first.Id, (await Factory.DeliveredAsync(Receiver, Path, 2))[1].Id);
    }

    [Fact]
    public async Task The_operators_message_routes_refuse_bad_queries_unknown_ids_and_tenant_keys()
    {
        using var admin = Factory.CreateAdminClient();
        foreach (var (query, field) in new[] { ("limit=0", "limit"), ("status=lost", "status"), ("cursor=%25%25", "cursor"), ("tenant_id=%20x", "tenant_id") })
        {
            var response = await admin.GetAsync($"/admin/notifications/messages?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty(field, out _), query);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/admin/notifications/messages/msg_nope/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Tenant.GetAsync("/admin/notifications/messages")).StatusCode);
    }
}
