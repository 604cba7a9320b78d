using System.Net;
using Tavus.Orchestrator.Conversations;
using static Tavus.Orchestrator.Tests.UsageSeed;

namespace Tavus.Orchestrator.Tests;

/// <summary>GET /tenant/usage, /admin/usage and one tenant's for an operator: totals, buckets on UTC edges, CSV, isolation, refusals.</summary>
public sealed class UsageTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private async Task SeedAprilAndMayAsync(string tenantId)
    {
        await Factory.SeedAsync(tenantId, Utc(2025, 4, 30, 23, 59, 59), ConversationStatus.Ended, 10, "participant_left_timeout");
        await Factory.SeedAsync(tenantId, Utc(2025, 5, 1, 0, 0, 0), ConversationStatus.Ended, 2.5, "participant_left_timeout");
        await Factory.SeedAsync(tenantId, Utc(2025, 5, 1, 23, 59, 59), ConversationStatus.Ended, 1, "max_call_duration");
        await Factory.SeedAsync(tenantId, Utc(2025, 5, 2, 12, 0, 0), ConversationStatus.Failed);
        await Factory.SeedAsync(tenantId, Utc(2025, 5, 31, 23, 59, 59), ConversationStatus.Active);
        await Factory.SeedAsync(tenantId, Utc(2025, 6, 1, 0, 0, 0), ConversationStatus.Ended, 7, "participant_absent_timeout");
    }

    [Fact]
    public async Task An_operator_reads_one_tenants_days_as_the_tenant_would()
    {
        await SeedAprilAndMayAsync(Tenant.Id);
        using var admin = Factory.CreateAdminClient();

        var asTenant = await (await Tenant.GetAsync("/tenant/usage?from=2025-05-01&to=2025-06-01")).Content.ReadAsStringAsync();
        var asOperator = await admin.GetAsync($"/admin/tenants/{Tenant.Id}/usage?from=2025-05-01&to=2025-06-01");

        Assert.Equal(HttpStatusCode.OK, asOperator.StatusCode);
        Assert.Equal(asTenant, await asOperator.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/tenants/no-such-tenant/usage")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"/admin/tenants/{Tenant.Id}/usage?granularity=hour")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Tenant.GetAsync($"/admin/tenants/{Tenant.Id}/usage")).StatusCode);
    }

    [Fact]
    public async Task A_month_of_days_counts_what_was_created_in_each_UTC_day()
    {
        await SeedAprilAndMayAsync(Tenant.Id);

        var usage = await (await Tenant.GetAsync("/tenant/usage?from=2025-05-01&to=2025-06-01")).ReadJsonAsync();

        var totals = usage.GetProperty("totals");
        Assert.Equal(4, totals.GetProperty("conversations").GetInt32());
        Assert.Equal(2, totals.GetProperty("ended").GetInt32());
        Assert.Equal(1, totals.GetProperty("failed").GetInt32());
        Assert.Equal(3.5, totals.GetProperty("minutes").GetDouble());
        Assert.Equal(1, totals.GetProperty("by_end_reason").GetProperty("participant_left_timeout").GetInt32());
        Assert.Equal(1, totals.GetProperty("by_end_reason").GetProperty("max_call_duration").GetInt32());
        var buckets = usage.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(31, buckets.Count);
        Assert.Equal("2025-05-01T00:00:00Z", buckets[0].Str("start"));
        Assert.Equal(2, buckets[0].GetProperty("conversations").GetInt32());
        Assert.Equal(3.5, buckets[0].GetProperty("minutes").GetDouble());
        Assert.Equal(1, buckets[1].GetProperty("failed").GetInt32());
        Assert.Equal(0, buckets[2].GetProperty("conversations").GetInt32());
        Assert.Equal(1, buckets[30].GetProperty("conversations").GetInt32());
    }

    [Fact]
    public async Task An_offset_in_from_and_to_is_read_as_the_UTC_instant_it_names()
    {
        await SeedAprilAndMayAsync(Tenant.Id);

        // 02:00 at +02:00 is midnight UTC: April's last second is out, May's first is in.
        var usage = await (await Tenant.GetAsync("/tenant/usage?from=2025-05-01T02:00:00%2B02:00&to=2025-05-02T00:00:00Z")).ReadJsonAsync();

        Assert.Equal("2025-05-01T00:00:00Z", usage.Str("from"));
        Assert.Equal(2, usage.GetProperty("totals").GetProperty("conversations").GetInt32());
        Assert.Single(usage.GetProperty("buckets").EnumerateArray());
    }

    [Fact]
    public async Task Months_split_on_the_first_at_midnight_UTC()
    {
        await SeedAprilAndMayAsync(Tenant.Id);

        var usage = await (await Tenant.GetAsync("/tenant/usage?from=2025-04-01&to=2025-07-01&granularity=month")).ReadJsonAsync();

        var buckets = usage.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(["2025-04-01T00:00:00Z", "2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z"], buckets.Select(b => b.Str("start")));
        Assert.Equal([1, 4, 1], buckets.Select(b => b.GetProperty("conversations").GetInt32()));
        Assert.Equal([10.0, 3.5, 7.0], buckets.Select(b => b.GetProperty("minutes").GetDouble()));
    }

    [Fact]
    public async Task Csv_has_a_row_per_bucket_and_a_column_per_end_reason()
    {
        await SeedAprilAndMayAsync(Tenant.Id);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tenant/usage?from=2025-04-01&to=2025-07-01&granularity=month");
        request.Headers.Accept.ParseAdd("text/csv");

        var response = await Tenant.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([
            "start,conversations,ended,failed,minutes,ended_max_call_duration,ended_participant_absent_timeout,ended_participant_left_timeout",
            "2025-04-01T00:00:00Z,1,1,0,10.0,0,0,1",
            "2025-05-01T00:00:00Z,4,2,1,3.5,1,0,1",
            "2025-06-01T00:00:00Z,1,1,0,7.0,0,1,0",
        ], lines);
    }

    [Fact]
    public async Task A_tenant_sees_only_its_own_usage_and_the_operator_sees_every_tenant()
    {
        using var other = await Factory.CreateTenantAsync("other");
        await Factory.SeedAsync(Tenant.Id, Utc(2031, 3, 3), ConversationStatus.Ended, 4, "participant_left_timeout");
        await Factory.SeedAsync(other.Id, Utc(2031, 3, 4), ConversationStatus.Ended, 6, "max_call_duration");
        await Factory.SeedAsync(other.Id, Utc(2031, 3, 5), ConversationStatus.Failed);

        var mine = await (await Tenant.GetAsync("/tenant/usage?from=2031-03-01&to=2031-04-01")).ReadJsonAsync();
        Assert.Equal(1, mine.GetProperty("totals").GetProperty("conversations").GetInt32());
        Assert.Equal(4.0, mine.GetProperty("totals").GetProperty("minutes").GetDouble());

        using var admin = Factory.CreateAdminClient();
        var all = await (await admin.GetAsync("/admin/usage?from=2031-03-01&to=2031-04-01")).ReadJsonAsync();
        var tenants = all.GetProperty("tenants").EnumerateArray().ToDictionary(t => t.Str("tenant_id"));
        Assert.Equal(4.0, tenants[Tenant.Id].GetProperty("minutes").GetDouble());
        Assert.Equal(2, tenants[other.Id].GetProperty("conversations").GetInt32());
        Assert.Equal(1, tenants[other.Id].GetProperty("failed").GetInt32());
        Assert.Equal(3, all.GetProperty("totals").GetProperty("conversations").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Tenant.GetAsync("/admin/usage")).StatusCode);
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=1e300", "from")]
    [InlineData("to=9999-01-01", "to")]
    [InlineData("from=2025-05-02&to=2025-05-01", "to")]
    [InlineData("from=2000-01-01&to=2099-01-01", "to")]
    [InlineData("granularity=week", "granularity")]
    public async Task A_bad_query_is_400_naming_the_field(string query, string field)
    {
        var response = await Tenant.GetAsync($"/tenant/usage?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"errors should name {field}: {problem}");
    }
}
