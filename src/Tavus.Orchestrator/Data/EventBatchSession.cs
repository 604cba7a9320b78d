using System.Data;
using System.Data.Common;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Data;

/// <summary>
/// A batch's transaction, as both event stores run it: each event inserted (by the provider's own
/// fastest means), each new one applied to its conversation (<see cref="Lifecycle.ApplySql"/>),
/// conversations that were only heard from noted once per batch, then the commit (or, where the
/// insert is one statement and the batch needs nothing else, that statement alone). Rows or
/// statements that must commit with the events go in <see cref="Commit"/>: the notifications each
/// new event causes (<see cref="OutboxCommands"/>) do; a duplicate causes none.
/// </summary>
internal abstract class EventBatchSession : IEventBatchSession
{
    /// <summary>
    /// The event, unless a unique index says it is there already (stored before, earlier in this
    /// batch, or a second end): <c>ON CONFLICT DO NOTHING</c> inserts no row.
    /// </summary>
    public const string InsertEventSql = """
        INSERT INTO "ConversationEvents" ("ConversationId", "Kind", "EventType", "OccurredAt", "ReceivedAt", "Source", "Properties", "Seq", "DedupeKey")
        VALUES (@conversation, @kind, @type, @occurred, @received, @source, @properties, @seq, @dedupe)
        ON CONFLICT DO NOTHING
        """;

    private const string HeardFromSql = """
        UPDATE "Conversations" SET "LastEventAt" = @received
        WHERE "Id" = @conversation AND ("LastEventAt" IS NULL OR "LastEventAt" < @received);
        """;

    private readonly DbCommand _apply;
    private readonly DbType _timestamps;
    private DbCommand? _heardFrom;
    private readonly OutboxCommands _outbox;
    private readonly OutboxSignal _signal;

    /// <param name="connection">The writer's own connection, open; the session disposes it.</param>
    /// <param name="timestamps">How the provider takes our UTC times.</param>
    /// <param name="signal">Raised after a commit that wrote notifications.</param>
    protected EventBatchSession(DbConnection connection, DbType timestamps, OutboxSignal signal)
    {
        _signal = signal;
        Connection = connection;
        _apply = connection.CreateCommand();
        _apply.CommandText = Lifecycle.ApplySql;
        Add(_apply, "conversation", DbType.String);
        Add(_apply, "adopt", DbType.String);
        Add(_apply, "kind", DbType.String);
        Add(_apply, "occurred", timestamps);
        Add(_apply, "received", timestamps);
        Add(_apply, "endReason", DbType.String);
        Add(_apply, "shutdownReason", DbType.String);

        _timestamps = timestamps;

        _outbox = new OutboxCommands(connection, timestamps);
    }

    protected DbConnection Connection { get; }

    // Npgsql reports a connection it found broken as closed.
    public bool IsOpen => Connection.State == ConnectionState.Open;

    /// <summary>
    /// Inserts the batch's events in order (<see cref="InsertEventSql"/>): each one's new id, or null
    /// when a unique index says it is already there. The transaction is null when the insert is the
    /// batch's only statement (see <see cref="InsertIsOneStatement"/>).
    /// </summary>
    protected abstract long?[] InsertAll(IReadOnlyList<EventWrite> batch, DbTransaction? transaction);

    /// <summary>
    /// Whether <see cref="InsertAll"/> is one statement that also notes when each conversation was
    /// last heard from. Then a batch with nothing else to write — no event moves its conversation or
    /// may cause a notification — is that statement alone, atomic by itself: no transaction to begin
    /// and commit, which on a server are round trips of their own.
    /// </summary>
    protected virtual bool InsertIsOneStatement => false;

    public virtual RecordOutcome[] Commit(IReadOnlyList<EventWrite> batch)
    {
        var outcomes = new RecordOutcome[batch.Count];
        // Events that only tell us the conversation is alive (utterances, unknown types) update it
        // once per batch, not once each.
        var heardFrom = new Dictionary<string, DateTime>();
        var notifies = false;
        using var transaction = InsertIsOneStatement && batch.All(w => !Lifecycle.MovesConversation(w) && !NotificationTypes.MayNotify(w))
            ? null
            : Connection.BeginTransaction();
        _apply.Transaction = transaction;
        var ids = InsertAll(batch, transaction);
        for (var i = 0; i < batch.Count; i++)
        {
            var write = batch[i];
            if (ids[i] is not { } id)
            {
                outcomes[i] = RecordOutcome.Duplicate;
                continue;
            }
            write.Event.Id = id;
            outcomes[i] = RecordOutcome.Recorded;
            // Before the event is applied: the notification depends on the status it finds.
            notifies |= _outbox.Write(write, transaction);
            if (Lifecycle.MovesConversation(write))
            {
                Apply(write);
            }
            else if (!InsertIsOneStatement && (!heardFrom.TryGetValue(write.Event.ConversationId, out var last) || last < write.Event.ReceivedAt))
            {
                heardFrom[write.Event.ConversationId] = write.Event.ReceivedAt;
            }
        }
        if (transaction is not null)
        {
            HeardFrom(heardFrom, transaction);
            transaction.Commit();
        }
        if (notifies)
        {
            _signal.Raise();
        }
        return outcomes;
    }

    private void Apply(EventWrite write)
    {
        var e = write.Event;
        var p = _apply.Parameters;
        p[0].Value = e.ConversationId;
        p[1].Value = (object?)write.AdoptTavusId ?? DBNull.Value;
        p[2].Value = e.Kind.ToString();
        p[3].Value = e.OccurredAt;
        p[4].Value = e.ReceivedAt;
        p[5].Value = (object?)write.Effect.EndReason ?? DBNull.Value;
        p[6].Value = (object?)write.Effect.ShutdownReason ?? DBNull.Value;
        _apply.ExecuteNonQuery();
    }

    /// <summary>
    /// Notes when each conversation was last heard from (<see cref="HeardFromSql"/>): one statement
    /// per conversation, where a statement costs no round trip.
    /// </summary>
    private void HeardFrom(Dictionary<string, DateTime> lastHeard, DbTransaction transaction)
    {
        foreach (var (conversationId, receivedAt) in lastHeard)
        {
            // Made on first use: a provider whose insert notes this never needs it.
            if (_heardFrom is null)
            {
                _heardFrom = Connection.CreateCommand();
                _heardFrom.CommandText = HeardFromSql;
                Add(_heardFrom, "conversation", DbType.String);
                Add(_heardFrom, "received", _timestamps);
            }
            _heardFrom.Transaction = transaction;
            _heardFrom.Parameters[0].Value = conversationId;
            _heardFrom.Parameters[1].Value = receivedAt;
            _heardFrom.ExecuteNonQuery();
        }
    }

    private static void Add(DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _apply.Dispose();
            _heardFrom?.Dispose();
            _outbox.Dispose();
            Connection.Dispose();
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
