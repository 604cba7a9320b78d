using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Usage;

/// <summary>
/// Usage as the database adds it up: one grouped aggregate over the conversations' (tenant,
/// created_at) index, never the conversations themselves. A conversation counts in the window (and
/// the bucket) it was created in; its minutes are <c>ended_at − created_at</c>. The rows come back
/// by UTC day, status and end reason (at most a few per day), and are folded into buckets here.
/// </summary>
public sealed class UsageReports(OrchestratorDbContext db, IDatabaseDialect dialect, TimeProvider time)
{
    /// <summary>One tenant's usage in the window: totals and a bucket for every day or month of it, empty ones included.</summary>
    public async Task<UsageReport> ForTenantAsync(string tenantId, UsageWindow window, CancellationToken cancellationToken)
    {
        var sql = TenantSql(dialect);
        var rows = await db.Database.SqlQueryRaw<UsageRow>(sql, tenantId, window.From, window.To).ToListAsync(cancellationToken);

        var buckets = window.BucketStarts().ToDictionary(start => start, _ => new UsageTally());
        var totals = new UsageTally();
        foreach (var row in rows)
        {
            var start = window.BucketOf(DateTime.UnixEpoch.AddDays(row.Day));
            buckets[start].Add(row);
            totals.Add(row);
        }
        return new UsageReport(window.From, window.To, window.Granularity, totals.ToCounts(),
            [.. buckets.OrderBy(b => b.Key).Select(b => UsageBucket.From(b.Key, b.Value.ToCounts()))]);
    }

    /// <summary>Every tenant's totals in the window (tenants with no conversations in it are left out).</summary>
    public async Task<AdminUsageReport> ForAllTenantsAsync(UsageWindow window, CancellationToken cancellationToken)
    {
        var sql = AllTenantsSql(dialect);
        var rows = await db.Database.SqlQueryRaw<UsageRow>(sql, window.From, window.To).ToListAsync(cancellationToken);

        var tenants = new SortedDictionary<string, UsageTally>(StringComparer.Ordinal);
        var totals = new UsageTally();
        foreach (var row in rows)
        {
            if (!tenants.TryGetValue(row.TenantId, out var tally))
            {
                tenants[row.TenantId] = tally = new UsageTally();
            }
            tally.Add(row);
            totals.Add(row);
        }
        return new AdminUsageReport(window.From, window.To, totals.ToCounts(),
            [.. tenants.Select(t => TenantUsage.From(t.Key, t.Value.ToCounts()))]);
    }

    /// <summary>
    /// Minutes the tenant used this UTC month, for its quota: conversations created this month,
    /// each ended one for its length, each one still running for the time it has run so far (up to
    /// its deadline), a failed one for nothing. Read by a create before its write turn, and by <c>GET /tenant</c>.
    /// </summary>
    public async Task<double> MinutesThisMonthAsync(string tenantId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var (start, end) = UsageWindow.MonthOf(now);
        var sql = MonthSql(dialect);
        var seconds = await db.Database.SqlQueryRaw<double>(sql, tenantId, start, end, now, (now - DateTime.UnixEpoch).TotalSeconds)
            .SingleAsync(cancellationToken);
        return Math.Max(0, seconds) / 60;
    }

    // The SQL is ours, with the dialect's fragments for time arithmetic; every value is a parameter.
    private static string SecondsSum(IDatabaseDialect d) =>
        $$"""COALESCE(SUM(CASE WHEN "EndedAt" IS NOT NULL THEN {{d.EpochSeconds("\"EndedAt\"")}} - {{d.EpochSeconds("\"CreatedAt\"")}} END), 0)""";

    private static string TenantSql(IDatabaseDialect d) => $$"""
        SELECT {{d.EpochDay("\"CreatedAt\"")}} AS "Day", '' AS "TenantId", "Status", "EndReason", COUNT(*) AS "Count", {{SecondsSum(d)}} AS "Seconds"
        FROM "Conversations"
        WHERE "TenantId" = {0} AND "CreatedAt" >= {1} AND "CreatedAt" < {2}
        GROUP BY {{d.EpochDay("\"CreatedAt\"")}}, "Status", "EndReason"
        """;

    private static string AllTenantsSql(IDatabaseDialect d) => $$"""
        SELECT 0 AS "Day", "TenantId", "Status", "EndReason", COUNT(*) AS "Count", {{SecondsSum(d)}} AS "Seconds"
        FROM "Conversations"
        WHERE "CreatedAt" >= {0} AND "CreatedAt" < {1}
        GROUP BY "TenantId", "Status", "EndReason"
        """;

    private static string MonthSql(IDatabaseDialect d) => $$"""
        SELECT COALESCE(SUM(CASE
            WHEN "EndedAt" IS NOT NULL THEN {{d.EpochSeconds("\"EndedAt\"")}} - {{d.EpochSeconds("\"CreatedAt\"")}}
            WHEN "Status" IN ({{Live}}) THEN (CASE WHEN "DeadlineAt" < {3} THEN {{d.EpochSeconds("\"DeadlineAt\"")}} ELSE {4} END) - {{d.EpochSeconds("\"CreatedAt\"")}}
            ELSE 0 END), 0) AS "Value"
        FROM "Conversations"
        WHERE "TenantId" = {0} AND "CreatedAt" >= {1} AND "CreatedAt" < {2}
        """;

    private static readonly string Live = string.Join(", ", Lifecycle.LiveStatuses.Select(s => $"'{s}'"));

    /// <summary>One group of the aggregate: a day (or a tenant), a status and an end reason.</summary>
    internal sealed class UsageRow
    {
        public long Day { get; init; }
        public string TenantId { get; init; } = "";
        public string Status { get; init; } = "";
        public string? EndReason { get; init; }
        public long Count { get; init; }
        public double Seconds { get; init; }
    }

    private sealed class UsageTally
    {
        private readonly SortedDictionary<string, int> _byEndReason = new(StringComparer.Ordinal);
        private int _conversations;
        private int _ended;
        private int _failed;
        private double _seconds;

        public void Add(UsageRow row)
        {
            var count = (int)row.Count;
            _conversations += count;
            _seconds += row.Seconds;
            if (row.Status == nameof(ConversationStatus.Failed))
            {
                _failed += count;
            }
            if (row.Status == nameof(ConversationStatus.Ended))
            {
                _ended += count;
                var reason = row.EndReason ?? "unknown";
                _byEndReason[reason] = _byEndReason.GetValueOrDefault(reason) + count;
            }
        }

        public UsageCounts ToCounts() =>
            new(_conversations, _ended, _failed, Math.Round(_seconds / 60, 1, MidpointRounding.AwayFromZero), new Dictionary<string, int>(_byEndReason));
    }
}
