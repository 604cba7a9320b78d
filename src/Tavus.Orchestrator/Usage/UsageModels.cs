using System.ComponentModel.DataAnnotations;

namespace Tavus.Orchestrator.Usage;

/// <summary>What a window or bucket holds: conversations created in it, and how they went.</summary>
/// <param name="Conversations">Conversations created.</param>
/// <param name="Ended">Of those, ended.</param>
/// <param name="Failed">Of those, never accepted by Tavus.</param>
/// <param name="Minutes">Sum of ended_at − created_at of the ended ones, in minutes, one decimal.</param>
/// <param name="ByEndReason">Ended ones by end_reason.</param>
public sealed record UsageCounts(
    [property: Range(0, int.MaxValue)] int Conversations,
    [property: Range(0, int.MaxValue)] int Ended,
    [property: Range(0, int.MaxValue)] int Failed,
    [property: Range(0, double.MaxValue)] double Minutes,
    Dictionary<string, int> ByEndReason);

/// <summary>One day or month (UTC) of usage, from <c>start</c>.</summary>
public sealed record UsageBucket(
    DateTime Start,
    [property: Range(0, int.MaxValue)] int Conversations,
    [property: Range(0, int.MaxValue)] int Ended,
    [property: Range(0, int.MaxValue)] int Failed,
    [property: Range(0, double.MaxValue)] double Minutes,
    Dictionary<string, int> ByEndReason)
{
    public static UsageBucket From(DateTime start, UsageCounts counts) =>
        new(start, counts.Conversations, counts.Ended, counts.Failed, counts.Minutes, counts.ByEndReason);
}

/// <summary>A tenant's usage of conversations created in <c>[from, to)</c>.</summary>
public sealed record UsageReport(DateTime From, DateTime To, Granularity Granularity, UsageCounts Totals, List<UsageBucket> Buckets);

/// <summary>One tenant's totals, for operators.</summary>
public sealed record TenantUsage(
    string TenantId,
    [property: Range(0, int.MaxValue)] int Conversations,
    [property: Range(0, int.MaxValue)] int Ended,
    [property: Range(0, int.MaxValue)] int Failed,
    [property: Range(0, double.MaxValue)] double Minutes,
    Dictionary<string, int> ByEndReason)
{
    public static TenantUsage From(string tenantId, UsageCounts counts) =>
        new(tenantId, counts.Conversations, counts.Ended, counts.Failed, counts.Minutes, counts.ByEndReason);
}

/// <summary>Every tenant's usage of conversations created in <c>[from, to)</c>, and the sum.</summary>
public sealed record AdminUsageReport(DateTime From, DateTime To, UsageCounts Totals, List<TenantUsage> Tenants);
