using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Data.Sqlite;

/// <summary>
/// The event writer's batches on SQLite: SQLite runs in this process, so one insert per event costs
/// no round trip (<see cref="SqliteInsert"/>); the WAL is checkpointed beside the writer
/// (<see cref="WalCheckpointer"/>, every <see cref="EventOptions.CheckpointBytes"/>).
/// </summary>
internal sealed class SqliteEventStore(SqliteConnections connections, IOptions<EventOptions> options, OutboxSignal signal, ILogger<WalCheckpointer> logger)
    : IEventStore
{
    public IEventBatchSession Open(CancellationToken cancellationToken)
    {
        var connection = connections.Open();
        var everyBytes = options.Value.CheckpointBytes;
        var checkpointer = everyBytes > 0 ? WalCheckpointer.Start(connection, connections.Open(), everyBytes, logger) : null;
        return new Session(connection, checkpointer, signal);
    }

    private sealed class Session(SqliteConnection connection, WalCheckpointer? checkpointer, OutboxSignal signal)
        : EventBatchSession(connection, DbType.DateTime, signal)
    {
        private readonly SqliteInsert _insert = new(connection, InsertEventSql);

        public override RecordOutcome[] Commit(IReadOnlyList<EventWrite> batch)
        {
            checkpointer?.CatchUp();
            var outcomes = base.Commit(batch);
            checkpointer?.Committed(batch);
            return outcomes;
        }

        protected override long?[] InsertAll(IReadOnlyList<EventWrite> batch, DbTransaction? transaction)
        {
            var ids = new long?[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                ids[i] = _insert.Insert(batch[i].Event);
            }
            return ids;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                checkpointer?.Dispose();
                _insert.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
