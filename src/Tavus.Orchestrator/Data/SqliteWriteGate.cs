namespace Tavus.Orchestrator.Data;

/// <summary>
/// SQLite lets one connection write at a time, and a connection that finds the file locked sleeps
/// in growing steps (1, 2, 5, 10 … 100 ms) until it is free: two writers of this process that
/// meet would cost each other milliseconds for a lock held well under one. The hot writers — the
/// event writer and the create of a conversation — take turns here instead, in arrival order,
/// so neither sleeps on the other. On PostgreSQL, which has row locks, the gate is open.
/// </summary>
public sealed class SqliteWriteGate(IConfiguration configuration) : IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly bool _enabled = DatabaseExtensions.Provider(configuration) == DatabaseProvider.Sqlite;

    /// <summary>Waits for this writer's turn; dispose the result when its transaction ended.</summary>
    public async ValueTask<Turn> EnterAsync(CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return default;
        }
        await _turn.WaitAsync(cancellationToken);
        return new Turn(_turn);
    }

    /// <summary>The same, blocking: for the event writer, which has a thread of its own.</summary>
    public Turn Enter()
    {
        if (!_enabled)
        {
            return default;
        }
        _turn.Wait();
        return new Turn(_turn);
    }

    public void Dispose() => _turn.Dispose();

    public readonly struct Turn(SemaphoreSlim? turn) : IDisposable
    {
        public void Dispose() => turn?.Release();
    }
}
