using Microsoft.EntityFrameworkCore;

namespace Tavus.Orchestrator.Data.Postgres;

/// <summary>PostgreSQL locks rows, not the database: writers need no turns, and the cap is held by an advisory lock.</summary>
internal sealed class PostgresDialect : IDatabaseDialect
{
    public ValueTask<WriteTurn> EnterWriteAsync(CancellationToken cancellationToken) => ValueTask.FromResult(default(WriteTurn));

    public WriteTurn EnterWrite() => default;

    /// <summary>A transaction-scoped advisory lock on the tenant: it serialises creates across instances too.</summary>
    public async Task LockTenantAsync(OrchestratorDbContext db, string tenantId, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({tenantId}))", cancellationToken);

    public string EpochSeconds(string column) => $"CAST(extract(epoch from {column}) AS double precision)";

    public string EpochDay(string column) => $"CAST(floor(extract(epoch from {column}) / 86400) AS bigint)";

    public bool KeepsUsageDays => false;
}
