using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Tests;

/// <summary>A host that refuses private networks, as outside simulator mode.</summary>
public sealed class NoPrivateNetworksFixture() : OrchestratorFixture(new Dictionary<string, string?> { ["Notifications:AllowPrivateNetworks"] = "false" });

/// <summary>The SSRF rule: refused when the endpoint is set, and again on the address actually connected to.</summary>
public sealed class NotificationGuardTests(NoPrivateNetworksFixture fixture) : IntegrationTests<NoPrivateNetworksFixture>(fixture)
{
    [Theory]
    [InlineData("http://example.com/hook")]
    [InlineData("https://127.0.0.1/hook")]
    [InlineData("https://10.1.2.3/hook")]
    [InlineData("https://172.20.0.1/hook")]
    [InlineData("https://192.168.1.1/hook")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://[fd00::1]/hook")]
    [InlineData("https://[fe80::1]/hook")]
    [InlineData("https://localhost/hook")]
    [InlineData("https://user:pass@example.com/hook")]
    public async Task A_private_or_plain_http_url_is_refused_at_put(string url)
    {
        var response = await Tenant.PutAsJsonAsync("/tenant/notifications", new { url });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("url", out _));
    }

    [Fact]
    public async Task A_private_address_reached_anyway_is_refused_at_connect_time()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var path = $"/{Tenant.Id}";
        // As a name that resolved to a public address at PUT and to loopback now would: the row holds a private URL.
        var secrets = Factory.Services.GetRequiredService<EndpointSecrets>();
        await Factory.QueryAsync(db =>
        {
            db.NotificationEndpoints.Add(new NotificationEndpoint
            {
                TenantId = Tenant.Id,
                Url = receiver.Url(path),
                ProtectedSecret = secrets.Protect(WebhookSigner.NewSecret()),
                CreatedAt = Factory.Time.GetUtcNow().UtcDateTime,
            });
            return db.SaveChangesAsync();
        });
        await Tenant.CreateConversationAsync();

        var message = await Eventually.WaitAsync(async () =>
        {
            await Factory.Dispatcher().RunOnceAsync(CancellationToken.None);
            return (await Tenant.GetFromJsonAsync<JsonElement>("/tenant/notifications/messages")).GetProperty("data");
        }, data => data.GetArrayLength() == 1 && data[0].GetProperty("attempts").GetArrayLength() == 1, "one attempt recorded");
        var attempt = message[0].GetProperty("attempts")[0];
        Assert.Equal(JsonValueKind.Null, attempt.GetProperty("status_code").ValueKind);
        Assert.Contains("refused", attempt.Str("error"), StringComparison.Ordinal);
        Assert.Empty(receiver.Requests);
        Assert.Equal(0, await Factory.QueryAsync(db => db.NotificationAttempts.CountAsync(a => a.StatusCode != null && a.MessageId == message[0].Str("id"))));
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("::", false)]
    [InlineData("fc00::1", false)]
    [InlineData("224.0.0.1", false)]
    public void Public_addresses_are_told_from_the_rest(string address, bool isPublic) =>
        Assert.Equal(isPublic, AddressGuard.IsPublic(IPAddress.Parse(address)));
}
