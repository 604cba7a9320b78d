namespace Tavus.Orchestrator.Data.Sqlite;

/// <summary>
/// SQLite lets one connection write at a time, and a connection that finds the file locked sleeps
/// in growing steps (1, 2, 5, 10 … 100 ms) until it is free: two writers of this process that
/// meet would cost each other milliseconds for a lock held well under one. The hot writers — the
/// event writer and the create of a conversation — take turns here instead, in arrival order,
/// so neither sleeps on the other.
/// </summary>
internal sealed class SqliteDialect : IDatabaseDialect, IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);

    public async ValueTask<WriteTurn> EnterWriteAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        return new WriteTurn(_turn);
    }

    public WriteTurn EnterWrite()
    {
        _turn.Wait();
        return new WriteTurn(_turn);
    }

    /// <summary>Nothing to do: a write transaction on SQLite (BEGIN IMMEDIATE) already excludes every other.</summary>
    public Task LockTenantAsync(OrchestratorDbContext db, string tenantId, CancellationToken cancellationToken) => Task.CompletedTask;

    // EF stores a DateTime as ISO text, which julianday reads; 2440587.5 is 1970-01-01 as a Julian day.
    public string EpochSeconds(string column) => $"((julianday({column}) - 2440587.5) * 86400.0)";

    public string EpochDay(string column) => $"CAST(julianday({column}) - 2440587.5 AS INTEGER)";

    public bool KeepsUsageDays => true;

    public void Dispose() => _turn.Dispose();
}
