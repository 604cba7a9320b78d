using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Tests;

public sealed class IdempotencyTests : IAsyncLifetime
{
    private readonly OrchestratorFactory _factory = new();
    private HttpClient _tenant = null!;

    public async Task InitializeAsync() => _tenant = await _factory.CreateTenantAsync("acme");

    public async Task DisposeAsync() => await _factory.DisposeAsync();

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

    [Fact]
    public async Task A_retried_create_returns_the_first_answer_and_creates_nothing_new()
    {
        var first = await CreateWithKeyAsync(_tenant, "retry-1");
        var second = await CreateWithKeyAsync(_tenant, "retry-1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1, _factory.Scalar("SELECT COUNT(*) FROM \"Conversations\""));
        using var simulator = _factory.CreateSimulatorClient();
        var atTavus = await (await simulator.GetAsync("v2/conversations?limit=100")).ReadJsonAsync();
        Assert.Equal(1, atTavus.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_422()
    {
        await CreateWithKeyAsync(_tenant, "k");
        var other = await CreateWithKeyAsync(_tenant, "k", new { max_call_duration = 600 });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal(1, _factory.Scalar("SELECT COUNT(*) FROM \"Conversations\""));
    }

    [Fact]
    public async Task Concurrent_creates_with_one_key_create_one_conversation()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => CreateWithKeyAsync(_tenant, "burst")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.ReadJsonAsync()).Str("conversation_id")));
        Assert.Single(ids.Distinct());
        Assert.Equal(1, _factory.Scalar("SELECT COUNT(*) FROM \"Conversations\""));
    }

    [Fact]
    public async Task Keys_are_per_tenant()
    {
        var other = await _factory.CreateTenantAsync("globex");
        var mine = await (await CreateWithKeyAsync(_tenant, "shared")).ReadJsonAsync();
        var theirs = await (await CreateWithKeyAsync(other, "shared")).ReadJsonAsync();

        Assert.NotEqual(mine.Str("conversation_id"), theirs.Str("conversation_id"));
        Assert.Equal("globex", theirs.Str("tenant_id"));
    }

    [Fact]
    public async Task A_key_is_free_again_after_24_hours()
    {
        var first = await (await CreateWithKeyAsync(_tenant, "daily")).ReadJsonAsync();
        _factory.Time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var second = await (await CreateWithKeyAsync(_tenant, "daily")).ReadJsonAsync();

        Assert.NotEqual(first.Str("conversation_id"), second.Str("conversation_id"));
    }

    [Fact]
    public async Task Keys_older_than_24_hours_are_purged()
    {
        await CreateWithKeyAsync(_tenant, "old");
        Assert.Equal(1, _factory.Scalar("SELECT COUNT(*) FROM \"IdempotencyRecords\""));

        _factory.Time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(30));   // a reconciler pass runs

        await Eventually.TrueAsync(() => _factory.Scalar("SELECT COUNT(*) FROM \"IdempotencyRecords\"") == 0, "the old key purged");
    }

    [Fact]
    public async Task A_create_Tavus_failed_can_be_retried_with_the_same_key_once_the_reconciler_knows_Tavus_has_none()
    {
        await _factory.SetFaultsAsync(createErrorRate: 1);
        var failed = await CreateWithKeyAsync(_tenant, "flaky");
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        var first = (await failed.ReadJsonAsync()).Str("conversation_id");

        // Until Tavus is asked, the key stays with the conversation that may exist there.
        await _factory.SetFaultsAsync();
        var meanwhile = await CreateWithKeyAsync(_tenant, "flaky");
        Assert.Equal(HttpStatusCode.Accepted, meanwhile.StatusCode);
        Assert.Equal(first, (await meanwhile.ReadJsonAsync()).Str("conversation_id"));

        // The reconciler finds it is not at Tavus: failed, and the key is free for a new try.
        _factory.Time.Advance(TimeSpan.FromSeconds(91));
        await _tenant.WaitForStatusAsync(first, "failed");
        var retried = await CreateWithKeyAsync(_tenant, "flaky");
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.NotEqual(first, (await retried.ReadJsonAsync()).Str("conversation_id"));
    }

    [SqliteFact] // it holds SQLite's write gate to catch the create between its key and its row
    public async Task A_client_that_hangs_up_mid_create_does_not_leave_its_key_claimed()
    {
        var dialect = _factory.Services.GetRequiredService<IDatabaseDialect>();
        using var hangUp = new CancellationTokenSource();
        using (await dialect.EnterWriteAsync(CancellationToken.None))
        {
            var first = CreateWithKeyAsync(_tenant, "hung-up", cancellationToken: hangUp.Token);
            await Eventually.TrueAsync(() => _factory.Scalar("SELECT COUNT(*) FROM \"IdempotencyRecords\"") == 1, "the key claimed");
            await hangUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
            await Eventually.TrueAsync(() => _factory.Scalar("SELECT COUNT(*) FROM \"IdempotencyRecords\"") == 0, "the key released");
        }

        var retried = await CreateWithKeyAsync(_tenant, "hung-up");

        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(1, _factory.Scalar("SELECT COUNT(*) FROM \"Conversations\""));
    }
}
