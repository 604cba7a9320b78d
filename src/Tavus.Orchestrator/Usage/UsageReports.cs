using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Usage;

/// <summary>
/// Usage as the database adds it up, never by loading conversations. A conversation counts in the
/// window (and the bucket) it was created in; its minutes are <c>ended_at − created_at</c>. The rows
/// come back by UTC day, status and end reason (at most a few per day), and are folded into buckets
/// here. Where the dialect keeps the "UsageDays" rollup (SQLite, by triggers: see the UsageRollup
/// migration) whole days are read from it and only a window's partial first and last day from the
/// conversations; elsewhere one grouped aggregate runs over the conversations' (tenant, created_at) index.
/// </summary>
public sealed class UsageReports(OrchestratorDbContext db, IDatabaseDialect dialect, TimeProvider time)
{
    /// <summary>One tenant's usage in the window: totals and a bucket for every day or month of it, empty ones included.</summary>
    public async Task<UsageReport> ForTenantAsync(string tenantId, UsageWindow window, CancellationToken cancellationToken)
    {
        var rows = new List<UsageRow>();
        foreach (var (from, to, fromDays) in Parts(window))
        {
            rows.AddRange(await (fromDays
                ? db.Database.SqlQueryRaw<UsageRow>(TenantDaysSql, tenantId, EpochDay(from), EpochDay(to))
                : db.Database.SqlQueryRaw<UsageRow>(TenantSql(dialect), tenantId, from, to)).ToListAsync(cancellationToken));
        }

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
        var rows = new List<UsageRow>();
        foreach (var (from, to, fromDays) in Parts(window))
        {
            rows.AddRange(await (fromDays
                ? db.Database.SqlQueryRaw<UsageRow>(AllTenantsDaysSql, EpochDay(from), EpochDay(to))
                : db.Database.SqlQueryRaw<UsageRow>(AllTenantsSql(dialect), from, to)).ToListAsync(cancellationToken));
        }

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
        var seconds = await (dialect.KeepsUsageDays
            ? db.Database.SqlQueryRaw<double>(MonthFromDaysSql(dialect), tenantId, start, end, now, (now - DateTime.UnixEpoch).TotalSeconds,
                EpochDay(start), EpochDay(end))
            : db.Database.SqlQueryRaw<double>(MonthSql(dialect), tenantId, start, end, now, (now - DateTime.UnixEpoch).TotalSeconds))
            .SingleAsync(cancellationToken);
        return Math.Max(0, seconds) / 60;
    }

    /// <summary>
    /// The window in parts, each read one way: with a rollup, its whole UTC days from "UsageDays"
    /// (<c>FromDays</c>) and the partial days at either end from the conversations; else all of it
    /// from the conversations.
    /// </summary>
    private IEnumerable<(DateTime From, DateTime To, bool FromDays)> Parts(UsageWindow window)
    {
        var firstWholeDay = window.From.TimeOfDay == TimeSpan.Zero ? window.From : window.From.Date.AddDays(1);
        var endOfWholeDays = window.To.Date;
        if (!dialect.KeepsUsageDays || firstWholeDay >= endOfWholeDays)
        {
            yield return (window.From, window.To, false);
            yield break;
        }
        if (window.From < firstWholeDay)
        {
            yield return (window.From, firstWholeDay, false);
        }
        yield return (firstWholeDay, endOfWholeDays, true);
        if (endOfWholeDays < window.To)
        {
            yield return (endOfWholeDays, window.To, false);
        }
    }

    private static long EpochDay(DateTime midnight) => (long)(midnight - DateTime.UnixEpoch).TotalDays;

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

    private const string TenantDaysSql = """
        SELECT "Day", '' AS "TenantId", "Status", NULLIF("EndReason", '') AS "EndReason", "Count", "Seconds"
        FROM "UsageDays"
        WHERE "TenantId" = {0} AND "Day" >= {1} AND "Day" < {2} AND "Count" > 0
        """;

    private const string AllTenantsDaysSql = """
        SELECT 0 AS "Day", "TenantId", "Status", NULLIF("EndReason", '') AS "EndReason", SUM("Count") AS "Count", SUM("Seconds") AS "Seconds"
        FROM "UsageDays"
        WHERE "Day" >= {0} AND "Day" < {1}
        GROUP BY "TenantId", "Status", "EndReason"
        HAVING SUM("Count") > 0
        """;

    /// <summary>As <see cref="MonthSql"/>: the ended conversations' seconds from the rollup, the running ones' from their rows (the (tenant, status) index).</summary>
    private static string MonthFromDaysSql(IDatabaseDialect d) => $$"""
        SELECT COALESCE((SELECT SUM("Seconds") FROM "UsageDays" WHERE "TenantId" = {0} AND "Day" >= {5} AND "Day" < {6}), 0)
            + COALESCE((SELECT SUM((CASE WHEN "DeadlineAt" < {3} THEN {{d.EpochSeconds("\"DeadlineAt\"")}} ELSE {4} END) - {{d.EpochSeconds("\"CreatedAt\"")}})
                FROM "Conversations"
                WHERE "TenantId" = {0} AND "Status" IN ({{Live}}) AND "EndedAt" IS NULL AND "CreatedAt" >= {1} AND "CreatedAt" < {2}), 0) AS "Value"
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
