using System.Data;
using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Data.Postgres;

/// <summary>The event writer's batches on PostgreSQL: a batch's inserts go to the server in one round trip.</summary>
internal sealed class PostgresEventStore(NpgsqlDataSource dataSource, OutboxSignal signal) : IEventStore
{
    private const string InsertEventReturningId = EventBatchSession.InsertEventSql + "\nRETURNING \"Id\";";

    public IEventBatchSession Open(CancellationToken cancellationToken) =>
        new Session(dataSource.OpenConnectionAsync(cancellationToken).AsTask().GetAwaiter().GetResult(), signal);

    // Our UTC times are timestamptz columns; DbType.DateTime would mean "without time zone".
    private sealed class Session(NpgsqlConnection connection, OutboxSignal signal) : EventBatchSession(connection, DbType.DateTimeOffset, signal)
    {
        protected override long?[] InsertAll(IReadOnlyList<EventWrite> batch, DbTransaction transaction)
        {
            using var round = new NpgsqlBatch(connection, (NpgsqlTransaction)transaction);
            foreach (var write in batch)
            {
                var e = write.Event;
                var insert = new NpgsqlBatchCommand(InsertEventReturningId);
                insert.Parameters.Add(new NpgsqlParameter<string>("conversation", e.ConversationId));
                insert.Parameters.Add(new NpgsqlParameter<string>("kind", e.Kind.ToString()));
                insert.Parameters.Add(new NpgsqlParameter<string>("type", e.EventType));
                insert.Parameters.Add(new NpgsqlParameter<DateTime>("occurred", NpgsqlDbType.TimestampTz) { TypedValue = e.OccurredAt });
                insert.Parameters.Add(new NpgsqlParameter<DateTime>("received", NpgsqlDbType.TimestampTz) { TypedValue = e.ReceivedAt });
                insert.Parameters.Add(new NpgsqlParameter<string>("source", e.Source.ToString()));
                insert.Parameters.Add(new NpgsqlParameter<string>("properties", e.Properties));
                insert.Parameters.Add(new NpgsqlParameter("seq", NpgsqlDbType.Bigint) { Value = (object?)e.Seq ?? DBNull.Value });
                insert.Parameters.Add(new NpgsqlParameter<string>("dedupe", e.DedupeKey));
                round.BatchCommands.Add(insert);
            }
            var ids = new long?[batch.Count];
            using (var reader = round.ExecuteReader())
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    ids[i] = reader.Read() ? reader.GetInt64(0) : null;
                    reader.NextResult();
                }
            }
            // Live streams on other instances hear of these events with the commit (LISTEN/NOTIFY).
            LiveNotifications.Notify(connection, (NpgsqlTransaction)transaction, [.. batch.Select(w => w.Event.ConversationId)], ids);
            return ids;
        }
    }
}
