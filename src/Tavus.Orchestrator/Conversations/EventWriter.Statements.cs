using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Tavus.Orchestrator.Data.Postgres;

namespace Tavus.Orchestrator.Conversations;

public sealed partial class EventWriter
{
    /// <summary>
    /// The statements of the hot path — insert an event, apply its effect, note that a conversation
    /// was heard from — made once for the writer's connection (SQLite or PostgreSQL).
    /// </summary>
    private sealed class Statements : IDisposable
    {
        private readonly DbConnection _connection;
        private DbTransaction? _transaction;
        private readonly SqliteInsert? _sqliteInsert;
        private readonly DbCommand _apply;
        private readonly DbCommand _heardFrom;

        // The event, unless a unique index says it is there already (stored before, earlier in
        // this batch, or a second end). PostgreSQL adds RETURNING "Id"; SQLite reads the new rowid.
        private const string InsertEvent = """
            INSERT INTO "ConversationEvents" ("ConversationId", "Kind", "EventType", "OccurredAt", "ReceivedAt", "Source", "Properties", "Seq", "DedupeKey")
            VALUES (@conversation, @kind, @type, @occurred, @received, @source, @properties, @seq, @dedupe)
            ON CONFLICT DO NOTHING
            """;

        private const string InsertEventReturningId = InsertEvent + "\nRETURNING \"Id\";";

        public Statements(DbConnection connection)
        {
            _connection = connection;
            if (connection is SqliteConnection sqlite)
            {
                _sqliteInsert = new SqliteInsert(sqlite, InsertEvent);
            }

            _apply = connection.CreateCommand();
            _apply.CommandText = Lifecycle.ApplySql;
            Add(_apply, "conversation", DbType.String);
            Add(_apply, "adopt", DbType.String);
            Add(_apply, "kind", DbType.String);
            Add(_apply, "occurred", DbType.DateTime);
            Add(_apply, "received", DbType.DateTime);
            Add(_apply, "endReason", DbType.String);
            Add(_apply, "shutdownReason", DbType.String);

            _heardFrom = connection.CreateCommand();
            _heardFrom.CommandText = """
                UPDATE "Conversations" SET "LastEventAt" = @received
                WHERE "Id" = @conversation AND ("LastEventAt" IS NULL OR "LastEventAt" < @received);
                """;
            Add(_heardFrom, "conversation", DbType.String);
            Add(_heardFrom, "received", DbType.DateTime);
        }

        private static void Add(DbCommand command, string name, DbType type)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.DbType = type;
            // PostgreSQL stores our UTC times as timestamptz; DbType.DateTime would mean "without time zone".
            if (parameter is NpgsqlParameter npgsql && type == DbType.DateTime)
            {
                npgsql.NpgsqlDbType = NpgsqlDbType.TimestampTz;
            }
            command.Parameters.Add(parameter);
        }

        public void Enlist(DbTransaction transaction)
        {
            _transaction = transaction;
            _apply.Transaction = transaction;
            _heardFrom.Transaction = transaction;
        }

        public void HeardFrom(string conversationId, DateTime receivedAt)
        {
            _heardFrom.Parameters[0].Value = conversationId;
            _heardFrom.Parameters[1].Value = receivedAt;
            _heardFrom.ExecuteNonQuery();
        }

        /// <summary>
        /// Inserts the batch's events in order; each one's new id, or null when a unique index says
        /// it is already there (stored before, earlier in this batch, or a second end). SQLite runs
        /// in this process, so one statement each costs no round trip; PostgreSQL gets them all in
        /// one round trip.
        /// </summary>
        public long?[] InsertAll(IReadOnlyList<Pending> batch)
        {
            var ids = new long?[batch.Count];
            if (_connection is NpgsqlConnection postgres)
            {
                using var round = new NpgsqlBatch(postgres, (NpgsqlTransaction?)_transaction);
                foreach (var pending in batch)
                {
                    var e = pending.Write.Event;
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
                using (var reader = round.ExecuteReader())
                {
                    for (var i = 0; i < batch.Count; i++)
                    {
                        ids[i] = reader.Read() ? reader.GetInt64(0) : null;
                        reader.NextResult();
                    }
                }
                // Live streams on other instances hear of these events with the commit (LISTEN/NOTIFY).
                LiveNotifications.Notify(postgres, (NpgsqlTransaction?)_transaction, [.. batch.Select(p => p.Write.Event.ConversationId)], ids);
                return ids;
            }
            for (var i = 0; i < batch.Count; i++)
            {
                // The writer's connection is PostgreSQL or SQLite.
                ids[i] = _sqliteInsert!.Insert(batch[i].Write.Event);
            }
            return ids;
        }

        public void Apply(EventWrite write)
        {
            var e = write.Event;
            var effect = write.Effect;
            var p = _apply.Parameters;
            p[0].Value = e.ConversationId;
            p[1].Value = (object?)write.AdoptTavusId ?? DBNull.Value;
            p[2].Value = e.Kind.ToString();
            p[3].Value = e.OccurredAt;
            p[4].Value = e.ReceivedAt;
            p[5].Value = (object?)effect.EndReason ?? DBNull.Value;
            p[6].Value = (object?)effect.ShutdownReason ?? DBNull.Value;
            _apply.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _sqliteInsert?.Dispose();
            _apply.Dispose();
            _heardFrom.Dispose();
        }
    }
}
