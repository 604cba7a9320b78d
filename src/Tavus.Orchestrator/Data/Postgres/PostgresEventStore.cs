using System.Data;
using System.Data.Common;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Data.Postgres;

/// <summary>
/// The event writer's batches on PostgreSQL: a batch's events go to the server as one statement of
/// nine arrays (<c>INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING</c>), however
/// many there are, which also updates the conversations it heard from and sends the <c>NOTIFY</c>
/// for other instances' streams. A batch of events that only say a conversation is alive (the
/// utterances that are most of a call's callbacks) is that one statement alone: one round trip.
/// </summary>
internal sealed class PostgresEventStore(NpgsqlDataSource dataSource, OutboxSignal signal) : IEventStore
{
    /// <summary>
    /// In the batch's order, so that ids rise with it and, of two copies of one delivery in a batch,
    /// the first is the one stored. RETURNING names each stored row by its unique key. The same
    /// statement notes when each conversation was last heard from (a later time only, as
    /// <see cref="Lifecycle.ApplySql"/> does) and notifies other instances
    /// (<see cref="LiveNotifications.NotifySql"/>), so that neither costs a statement or round trip of its own.
    /// </summary>
    private const string InsertBatchSql = $$"""
        WITH inserted AS (
            INSERT INTO "ConversationEvents" ("ConversationId", "Kind", "EventType", "OccurredAt", "ReceivedAt", "Source", "Properties", "Seq", "DedupeKey")
            SELECT e.conversation, e.kind, e.type, e.occurred, e.received, e.source, convert_from(e.properties, 'UTF8'), e.seq, e.dedupe
            FROM unnest(@conversation, @kind, @type, @occurred, @received, @source, @properties, @seq, @dedupe)
                WITH ORDINALITY AS e(conversation, kind, type, occurred, received, source, properties, seq, dedupe, position)
            ORDER BY e.position
            ON CONFLICT DO NOTHING
            RETURNING "Id", "ConversationId", "DedupeKey", "ReceivedAt"),
        heard AS (
            UPDATE "Conversations" AS c SET "LastEventAt" = h.received
            FROM (SELECT "ConversationId" AS conversation, max("ReceivedAt") AS received FROM inserted GROUP BY "ConversationId") AS h
            WHERE c."Id" = h.conversation AND (c."LastEventAt" IS NULL OR c."LastEventAt" < h.received)),
        {{LiveNotifications.NotifySql}}
        SELECT "Id", "ConversationId", "DedupeKey", (SELECT count(*) FROM notified) FROM inserted;
        """;

    /// <summary>The writer connection's application_name (pg_stat_activity shows it).</summary>
    public const string ApplicationName = "tavus-orchestrator-writer";

    public IEventBatchSession Open(CancellationToken cancellationToken)
    {
        var connection = dataSource.OpenConnectionAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
        try
        {
            using var name = new NpgsqlCommand($"SET application_name = '{ApplicationName}'", connection);
            name.ExecuteNonQuery();
            return new Session(connection, signal);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // Our UTC times are timestamptz columns; DbType.DateTime would mean "without time zone".
    private sealed class Session(NpgsqlConnection connection, OutboxSignal signal) : EventBatchSession(connection, DbType.DateTimeOffset, signal)
    {
        protected override long?[] InsertAll(IReadOnlyList<EventWrite> batch, DbTransaction? transaction)
        {
            var n = batch.Count;
            var (conversation, kind, type, source, dedupe) = (new string[n], new string[n], new string[n], new string[n], new string[n]);
            // A callback's properties go as the UTF-8 bytes it came with (bytea, turned into text by
            // the statement), not decoded to a string for Npgsql to encode again.
            var properties = new byte[n][];
            var (occurred, received, seq) = (new DateTime[n], new DateTime[n], new long?[n]);
            for (var i = 0; i < n; i++)
            {
                var e = batch[i].Event;
                (conversation[i], kind[i], type[i], source[i], properties[i], dedupe[i]) =
                    (e.ConversationId, e.Kind.ToString(), e.EventType, e.Source.ToString(), e.PropertiesUtf8 ?? Encoding.UTF8.GetBytes(e.Properties), e.DedupeKey);
                (occurred[i], received[i], seq[i]) = (e.OccurredAt, e.ReceivedAt, e.Seq);
            }
            using var insert = new NpgsqlCommand(InsertBatchSql, connection, (NpgsqlTransaction?)transaction);
            var p = insert.Parameters;
            p.Add(new NpgsqlParameter<string[]>("conversation", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = conversation });
            p.Add(new NpgsqlParameter<string[]>("kind", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = kind });
            p.Add(new NpgsqlParameter<string[]>("type", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = type });
            p.Add(new NpgsqlParameter<DateTime[]>("occurred", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = occurred });
            p.Add(new NpgsqlParameter<DateTime[]>("received", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = received });
            p.Add(new NpgsqlParameter<string[]>("source", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = source });
            p.Add(new NpgsqlParameter<byte[][]>("properties", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = properties });
            p.Add(new NpgsqlParameter<long?[]>("seq", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = seq });
            p.Add(new NpgsqlParameter<string[]>("dedupe", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = dedupe });

            var stored = new Dictionary<(string, string), long>(n);
            using (var reader = insert.ExecuteReader())
            {
                while (reader.Read())
                {
                    stored[(reader.GetString(1), reader.GetString(2))] = reader.GetInt64(0);
                }
            }
            // Each stored row to the first of the batch's events with its key; a later copy, or an
            // event an index refused, is a duplicate.
            var ids = new long?[n];
            for (var i = 0; i < n; i++)
            {
                if (stored.Remove((conversation[i], dedupe[i]), out var id))
                {
                    ids[i] = id;
                }
            }
            return ids;
        }

        // One statement, which notes when each conversation was last heard from.
        protected override bool InsertIsOneStatement => true;
    }
}
