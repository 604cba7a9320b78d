using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Usage read through the service's own path (on SQLite the "UsageDays" rollup its triggers keep)
/// agrees with the conversations themselves after the changes the service makes: creates that
/// settle, callbacks that move a conversation on and end it, a failure.
/// </summary>
public sealed class UsageRollupTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    [Fact]
    public async Task Usage_agrees_with_the_conversations_after_creates_callbacks_ends_and_a_failure()
    {
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await Tenant.CreateConversationAsync()).Str("conversation_id"));
        }
        Factory.Time.Advance(TimeSpan.FromMinutes(3));
        foreach (var id in ids)
        {
            await Tenant.WaitForStatusAsync(id, "active"); // the simulator's replica joined: no callback comes after the failure below
        }
        await EndAsync(ids[0], "shutdown_participant_left_timeout.json");
        await EndAsync(ids[1], "shutdown_max_call_duration.json");
        await EndAsync(ids[1], "shutdown_max_call_duration.json"); // a duplicate changes nothing
        await Factory.QueryAsync(db => db.Conversations.Where(c => c.TavusId == ids[2])
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, ConversationStatus.Failed)));
        await Factory.SeedAsync(Tenant.Id, Factory.Time.GetUtcNow().UtcDateTime.AddMinutes(-20), ConversationStatus.Ended, 12.5, "participant_absent_timeout");

        var usage = (await (await Tenant.GetAsync("/tenant/usage")).ReadJsonAsync()).GetProperty("totals");

        var now = Factory.Time.GetUtcNow().UtcDateTime;
        var month = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var rows = await Factory.QueryAsync(db => db.Conversations.AsNoTracking()
            .Where(c => c.TenantId == Tenant.Id && c.CreatedAt >= month && c.CreatedAt < month.AddMonths(1))
            .Select(c => new { c.Status, c.EndReason, c.CreatedAt, c.EndedAt }).ToListAsync());
        Assert.Equal(rows.Count, usage.GetProperty("conversations").GetInt32());
        Assert.Equal(rows.Count(r => r.Status == ConversationStatus.Ended), usage.GetProperty("ended").GetInt32());
        Assert.Single(rows, r => r.Status == ConversationStatus.Failed);
        Assert.Equal(1, usage.GetProperty("failed").GetInt32());
        var minutes = rows.Where(r => r.EndedAt is not null).Sum(r => (r.EndedAt!.Value - r.CreatedAt).TotalMinutes);
        Assert.Equal(Math.Round(minutes, 1, MidpointRounding.AwayFromZero), usage.GetProperty("minutes").GetDouble(), 1);
        var reasons = rows.Where(r => r.Status == ConversationStatus.Ended).GroupBy(r => r.EndReason ?? "unknown")
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(reasons.OrderBy(r => r.Key), usage.GetProperty("by_end_reason").EnumerateObject()
            .Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt32())).OrderBy(r => r.Key));
        Assert.Equal(3, reasons.Values.Sum());
    }

    private async Task EndAsync(string id, string fixture)
    {
        var response = await Tenant.PostFixtureAsync(fixture, id, await Factory.CallbackTokenAsync(id));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JsonValueKind.Object, (await response.ReadJsonAsync()).ValueKind);
    }
}
