namespace Tavus.Orchestrator.Data;

/// <summary>
/// What the hot writers need to know of the database they write to, chosen once in
/// <see cref="DatabaseExtensions.AddDatabase"/>: SQLite lets one connection write at a time, so the
/// event writer and the create of a conversation take turns; PostgreSQL has row locks, and its
/// instances share the per-tenant cap through an advisory lock.
/// </summary>
public interface IDatabaseDialect
{
    /// <summary>Waits for this writer's turn; dispose the result when its transaction ended.</summary>
    ValueTask<WriteTurn> EnterWriteAsync(CancellationToken cancellationToken);

    /// <summary>The same, blocking: for the event writer, which has a thread of its own.</summary>
    WriteTurn EnterWrite();

    /// <summary>
    /// Inside a transaction: serialises it with every other one that locks the same tenant (until it
    /// ends), so that a count of the tenant's conversations and an insert after it cannot interleave.
    /// </summary>
    Task LockTenantAsync(OrchestratorDbContext db, string tenantId, CancellationToken cancellationToken);

    /// <summary>SQL for a timestamp column as seconds since 1970, a floating-point number: durations are differences of two.</summary>
    string EpochSeconds(string column);

    /// <summary>SQL for a timestamp column as whole UTC days since 1970, an integer: the day a usage bucket groups by.</summary>
    string EpochDay(string column);

    /// <summary>
    /// Whether triggers keep the "UsageDays" rollup (SQLite, which adds up a million rows on one
    /// core in over a second); else usage adds up the conversations themselves (PostgreSQL, where a
    /// rollup's few hot rows would serialise every instance's commits).
    /// </summary>
    bool KeepsUsageDays { get; }
}

/// <summary>A writer's turn at the database; disposing it lets the next writer in.</summary>
public readonly struct WriteTurn(SemaphoreSlim? turn) : IDisposable
{
    public void Dispose() => turn?.Release();
}
