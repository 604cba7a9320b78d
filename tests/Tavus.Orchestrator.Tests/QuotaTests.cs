using System.Net;
using System.Net.Http.Json;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

/// <summary>max_minutes_per_month: the create that finds the month's minutes used up is 429; next month it is allowed.</summary>
public sealed class QuotaTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private DateTime Now => Factory.Time.GetUtcNow().UtcDateTime;

    [Fact]
    public async Task The_create_after_the_months_minutes_reach_the_quota_is_refused_until_the_next_month()
    {
        using var tenant = await Factory.CreateTenantAsync("quota", new { max_minutes_per_month = 10 });
        await Factory.SeedAsync(tenant.Id, Now.AddHours(-1), ConversationStatus.Ended, 9.5, "participant_left_timeout");
        await tenant.CreateConversationAsync();

        await Factory.SeedAsync(tenant.Id, Now.AddMinutes(-30), ConversationStatus.Ended, 0.5, "participant_left_timeout");
        var refused = await tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var problem = await refused.ReadJsonAsync();
        Assert.EndsWith("/quota-exhausted", problem.Str("type"));
        Assert.NotNull(refused.Headers.RetryAfter);

        var nextMonth = new DateTime(Now.Year, Now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1).AddSeconds(1);
        Factory.Time.Advance(nextMonth - Now);
        Assert.Equal(0.0, (await (await tenant.GetAsync("/tenant")).ReadJsonAsync()).GetProperty("minutes_used_this_month").GetDouble(), 1);
        await tenant.CreateConversationAsync();
    }

    [Fact]
    public async Task A_running_conversation_counts_the_minutes_it_has_run_so_far()
    {
        using var tenant = await Factory.CreateTenantAsync("quota", new { max_minutes_per_month = 5 });
        await Factory.SeedAsync(tenant.Id, Now, ConversationStatus.Active);
        Factory.Time.Advance(TimeSpan.FromMinutes(6));

        var own = await (await tenant.GetAsync("/tenant")).ReadJsonAsync();
        Assert.True(own.GetProperty("minutes_used_this_month").GetDouble() >= 5, own.ToString());
        Assert.Equal(5, own.GetProperty("policy").GetProperty("max_minutes_per_month").GetInt32());

        var refused = await tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.EndsWith("/quota-exhausted", (await refused.ReadJsonAsync()).Str("type"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(1_000_001)]
    public async Task A_quota_out_of_range_is_refused_naming_the_field(int minutes)
    {
        using var admin = Factory.CreateAdminClient();
        var response = await admin.PutAsJsonAsync($"/admin/tenants/{Tenant.Id}/policy", new { max_minutes_per_month = minutes }, Json.Options);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("policy.max_minutes_per_month", out _));
    }
}
