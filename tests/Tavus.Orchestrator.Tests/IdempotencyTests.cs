using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Tests;

public sealed class IdempotencyTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{

    private Task<HttpResponseMessage> CreateWithKeyAsync(HttpClient client, string key, object? properties = null,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/conversations")
        {
            Content = JsonContent.Create(Scenario.CreateBody(properties), options: Json.Options),
        };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request, cancellationToken);
    }

    private Task<int> KeyCountAsync() => Factory.QueryAsync(db => db.IdempotencyRecords.CountAsync(r => r.TenantId == Tenant.Id));

    [Fact]
    public async Task A_retried_create_returns_the_first_answer_and_creates_nothing_new()
    {
        var first = await CreateWithKeyAsync(Tenant, "retry-1");
        var second = await CreateWithKeyAsync(Tenant, "retry-1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1, await ConversationCountAsync());
        Assert.Equal(1, Factory.TavusCalls["POST /tavus-sim/v2/conversations"]);
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_422()
    {
        await CreateWithKeyAsync(Tenant, "k");
        var other = await CreateWithKeyAsync(Tenant, "k", new { max_call_duration = 600 });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal(1, await ConversationCountAsync());
    }

    [Fact]
    public async Task Concurrent_creates_with_one_key_create_one_conversation()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => CreateWithKeyAsync(Tenant, "burst")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.ReadJsonAsync()).Str("conversation_id")));
        Assert.Single(ids.Distinct());
        Assert.Equal(1, await ConversationCountAsync());
    }

    [Fact]
    public async Task Keys_are_per_tenant()
    {
        using var other = await Factory.CreateTenantAsync("globex");
        var mine = await (await CreateWithKeyAsync(Tenant, "shared")).ReadJsonAsync();
        var theirs = await (await CreateWithKeyAsync(other, "shared")).ReadJsonAsync();

        Assert.NotEqual(mine.Str("conversation_id"), theirs.Str("conversation_id"));
        Assert.Equal(other.Id, theirs.Str("tenant_id"));
    }

    [Fact]
    public async Task A_key_is_free_again_after_24_hours()
    {
        var first = await (await CreateWithKeyAsync(Tenant, "daily")).ReadJsonAsync();
        Factory.Time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var second = await (await CreateWithKeyAsync(Tenant, "daily")).ReadJsonAsync();

        Assert.NotEqual(first.Str("conversation_id"), second.Str("conversation_id"));
    }

    [Fact]
    public async Task Keys_older_than_24_hours_are_purged()
    {
        await CreateWithKeyAsync(Tenant, "old");
        Assert.Equal(1, await KeyCountAsync());

        Factory.Time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(30));   // a reconciler pass runs

        await Eventually.TrueAsync(async () => await KeyCountAsync() == 0, "the old key purged");
    }

    [Fact]
    public async Task A_create_Tavus_failed_can_be_retried_with_the_same_key_once_the_reconciler_knows_Tavus_has_none()
    {
        await Factory.SetFaultsAsync(createErrorRate: 1);
        var failed = await CreateWithKeyAsync(Tenant, "flaky");
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        var first = (await failed.ReadJsonAsync()).Str("conversation_id");

        // Until Tavus is asked, the key stays with the conversation that may exist there.
        await Factory.SetFaultsAsync();
        var meanwhile = await CreateWithKeyAsync(Tenant, "flaky");
        Assert.Equal(HttpStatusCode.Accepted, meanwhile.StatusCode);
        Assert.Equal(first, (await meanwhile.ReadJsonAsync()).Str("conversation_id"));

        // The reconciler finds it is not at Tavus: failed, and the key is free for a new try.
        Factory.Time.Advance(TimeSpan.FromSeconds(91));
        await Tenant.WaitForStatusAsync(first, "failed");
        var retried = await CreateWithKeyAsync(Tenant, "flaky");
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.NotEqual(first, (await retried.ReadJsonAsync()).Str("conversation_id"));
    }

    [SqliteFact] // it holds SQLite's write gate to catch the create between its key and its row
    public async Task A_client_that_hangs_up_mid_create_does_not_leave_its_key_claimed()
    {
        var dialect = Factory.Services.GetRequiredService<IDatabaseDialect>();
        using var hangUp = new CancellationTokenSource();
        using (await dialect.EnterWriteAsync(CancellationToken.None))
        {
            var first = CreateWithKeyAsync(Tenant, "hung-up", cancellationToken: hangUp.Token);
            await Eventually.TrueAsync(async () => await KeyCountAsync() == 1, "the key claimed");
            await hangUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
            await Eventually.TrueAsync(async () => await KeyCountAsync() == 0, "the key released");
        }

        var retried = await CreateWithKeyAsync(Tenant, "hung-up");

        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(1, await ConversationCountAsync());
    }
}
