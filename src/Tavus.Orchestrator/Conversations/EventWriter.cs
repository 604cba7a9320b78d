using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SQLitePCL;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Conversations;

/// <summary>An event to store, with what it changes on its conversation.</summary>
/// <param name="Event">The event, with our conversation key.</param>
/// <param name="Effect">The columns it sets on the conversation.</param>
/// <param name="AdoptTavusId">Tavus' id for a conversation that has none yet (its create answer was lost).</param>
/// <param name="PublicId">The id clients know the conversation by (Tavus' id, which a callback names), for the log.</param>
public sealed record EventWrite(ConversationEvent Event, EventEffect Effect, string? AdoptTavusId = null, string? PublicId = null);

/// <summary>
/// The one way events reach the database: a single writer that commits whatever is queued in one
/// transaction (group commit), then completes each request. One fsync serves a whole batch, so
/// callbacks are answered only after their commit and still fast. Duplicates and second ends are
/// refused by unique indexes (<c>ON CONFLICT DO NOTHING</c>), and conversation state is moved by
/// conditional updates, so the rules hold whatever order events arrive in.
/// </summary>
public sealed partial class EventWriter : BackgroundService
{
    private readonly Channel<Pending> _queue;
    private readonly EventOptions _options;
    private readonly IConfiguration _configuration;
    private readonly ConversationEvents _live;
    private readonly SqliteWriteGate _gate;
    private readonly ILogger<EventWriter> _logger;
    private int _committing;

    public EventWriter(IOptions<EventOptions> options, IConfiguration configuration, ConversationEvents live, SqliteWriteGate gate,
        ILogger<EventWriter> logger)
    {
        _gate = gate;
        _options = options.Value;
        _configuration = configuration;
        _live = live;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Writes accepted and not yet committed: queued, or in the batch being committed.</summary>
    internal int Waiting => _queue.Reader.Count + Volatile.Read(ref _committing);

    /// <summary>Queues a write unless the queue is full; the task completes after the commit.</summary>
    public bool TryWrite(EventWrite write, out Task<RecordOutcome> committed)
    {
        var pending = new Pending(write);
        committed = pending.Completion.Task;
        return _queue.Writer.TryWrite(pending);
    }

    /// <summary>Queues a write, waiting for room; completes after the commit.</summary>
    public async Task<RecordOutcome> WriteAsync(EventWrite write, CancellationToken cancellationToken)
    {
        var pending = new Pending(write);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Completion.Task;
    }

    // The writer blocks in every commit's fsync: it gets a thread of its own rather than holding
    // one of the few thread-pool threads that serve requests (two on a two-core machine).
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        using var connection = DatabaseExtensions.OpenConnectionAsync(_configuration, stoppingToken).GetAwaiter().GetResult();
        using var statements = new Statements(connection);
        using var checkpointer = connection is SqliteConnection sqlite && _options.CheckpointBytes > 0
            ? WalCheckpointer.Start(sqlite, _configuration, _options.CheckpointBytes, _logger)
            : null;
        var batch = new List<Pending>(_options.MaxBatchSize);
        var reader = _queue.Reader;

        // A stop lets the queued writes finish: the hosts stops Kestrel first, so nothing new comes.
        while (reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
        {
            // The turn first: what arrives while a create holds the file joins this batch.
            using var turn = _gate.Enter();
            checkpointer?.CatchUp();
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            Volatile.Write(ref _committing, batch.Count);
            var started = Stopwatch.GetTimestamp();
            RecordOutcome[]? outcomes = null;
            try
            {
                outcomes = Commit(connection, statements, batch);
            }
            catch (Exception ex)
            {
                // One bad write must not fail the others: retry each alone.
                Log.BatchFailed(_logger, ex, batch.Count);
                foreach (var pending in batch)
                {
                    try
                    {
                        var alone = Stopwatch.GetTimestamp();
                        LogCommit([pending], Commit(connection, statements, [pending]), Stopwatch.GetElapsedTime(alone));
                    }
                    catch (Exception single)
                    {
                        pending.Completion.TrySetException(single);
                    }
                }
            }
            if (outcomes is not null)
            {
                LogCommit(batch, outcomes, Stopwatch.GetElapsedTime(started));
            }
            checkpointer?.Committed(batch.Select(pending => pending.Write.Event));
            batch.Clear();
            Volatile.Write(ref _committing, 0);
            if (stoppingToken.IsCancellationRequested && !reader.TryPeek(out _))
            {
                break;
            }
        }
    }

    /// <summary>
    /// One line per commit, naming every event in it: the log record of stored callbacks, whose
    /// request lines are Debug (at thousands of callbacks a second, a line each cost 10–15 % of the
    /// service's CPU and as many log lines; the events themselves are the durable record).
    /// </summary>
    private void LogCommit(IReadOnlyList<Pending> batch, RecordOutcome[] outcomes, TimeSpan elapsed)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }
        var events = new string[batch.Count];
        var duplicates = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var write = batch[i].Write;
            var e = write.Event;
            var duplicate = outcomes[i] == RecordOutcome.Duplicate;
            duplicates += duplicate ? 1 : 0;
            events[i] = $"{write.PublicId ?? e.ConversationId} {e.EventType}{(e.Seq is { } seq ? $" seq {seq}" : "")}{(duplicate ? " (duplicate)" : "")}";
        }
        Log.Committed(_logger, batch.Count, duplicates, elapsed.TotalMilliseconds, string.Join("; ", events));
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    private RecordOutcome[] Commit(DbConnection connection, Statements statements, IReadOnlyList<Pending> batch)
    {
        var outcomes = new RecordOutcome[batch.Count];
        // Events that only tell us the conversation is alive (utterances, unknown types) update it
        // once per batch, not once each.
        var heardFrom = new Dictionary<string, DateTime>();
        using (var transaction = connection.BeginTransaction())
        {
            statements.Enlist(transaction);
            var ids = statements.InsertAll(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i].Write;
                var id = ids[i];
                if (id is null)
                {
                    outcomes[i] = RecordOutcome.Duplicate;
                    continue;
                }
                write.Event.Id = id.Value;
                outcomes[i] = RecordOutcome.Recorded;
                if (MovesConversation(write))
                {
                    statements.Apply(write);
                }
                else if (!heardFrom.TryGetValue(write.Event.ConversationId, out var last) || last < write.Event.ReceivedAt)
                {
                    heardFrom[write.Event.ConversationId] = write.Event.ReceivedAt;
                }
            }
            foreach (var (conversationId, receivedAt) in heardFrom)
            {
                statements.HeardFrom(conversationId, receivedAt);
            }
            transaction.Commit();
        }
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i] == RecordOutcome.Recorded)
            {
                _live.Publish(batch[i].Write.Event.ConversationId, batch[i].Write.Event);
            }
            batch[i].Completion.TrySetResult(outcomes[i]);
        }
        return outcomes;
    }

    private static bool MovesConversation(EventWrite write) =>
        write.Event.Kind is EventKind.ReplicaJoined or EventKind.Ended || write.AdoptTavusId is not null || write.Effect != EventEffect.None;

    private sealed record Pending(EventWrite Write)
    {
        public TaskCompletionSource<RecordOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    // Event ids 100–119: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information,
            Message = "Stored {Count} events ({Duplicates} duplicates) in one commit of {Elapsed:0.0} ms: {Events}")]
        public static partial void Committed(ILogger logger, int count, int duplicates, double elapsed, string events);

        [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "A batch of {Count} events failed; committing them one by one")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int count);
    }

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
                using var reader = round.ExecuteReader();
                for (var i = 0; i < batch.Count; i++)
                {
                    ids[i] = reader.Read() ? reader.GetInt64(0) : null;
                    reader.NextResult();
                }
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

/// <summary>
/// The event insert on SQLite, prepared once and bound by position through SQLite's own API.
/// Microsoft.Data.Sqlite looks each parameter up by name on every execution (three prefixes,
/// a linear scan each) and converts every string to UTF-8 in managed code; on the writer, which
/// runs this thousands of times a second, that was about a third of its time. Values are stored
/// exactly as Microsoft.Data.Sqlite and EF Core store them (DateTime as ISO text), so EF reads them.
/// </summary>
internal sealed class SqliteInsert : IDisposable
{
    // Microsoft.Data.Sqlite's (and EF Core's) text form of a DateTime.
    private const string DateTimeFormat = @"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF";

    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;
    private readonly int _conversation, _kind, _type, _occurred, _received, _source, _properties, _seq, _dedupe;

    public SqliteInsert(SqliteConnection connection, string sql)
    {
        _connection = connection;
        var db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v3(db, sql, raw.SQLITE_PREPARE_PERSISTENT, out _statement), db);
        _conversation = IndexOf("@conversation");
        _kind = IndexOf("@kind");
        _type = IndexOf("@type");
        _occurred = IndexOf("@occurred");
        _received = IndexOf("@received");
        _source = IndexOf("@source");
        _properties = IndexOf("@properties");
        _seq = IndexOf("@seq");
        _dedupe = IndexOf("@dedupe");
    }

    private int IndexOf(string name)
    {
        var index = raw.sqlite3_bind_parameter_index(_statement, name);
        return index > 0 ? index : throw new InvalidOperationException($"The insert has no parameter {name}.");
    }

    /// <summary>Inserts the event; its new id, or null when a unique index says it is already there.</summary>
    public long? Insert(ConversationEvent e)
    {
        var db = _connection.Handle;
        try
        {
            Check(raw.sqlite3_bind_text16(_statement, _conversation, e.ConversationId));
            Check(raw.sqlite3_bind_text16(_statement, _kind, e.Kind.ToString()));
            Check(raw.sqlite3_bind_text16(_statement, _type, e.EventType));
            BindDateTime(_occurred, e.OccurredAt);
            BindDateTime(_received, e.ReceivedAt);
            Check(raw.sqlite3_bind_text16(_statement, _source, e.Source.ToString()));
            Check(raw.sqlite3_bind_text16(_statement, _properties, e.Properties));
            Check(e.Seq is { } seq ? raw.sqlite3_bind_int64(_statement, _seq, seq) : raw.sqlite3_bind_null(_statement, _seq));
            Check(raw.sqlite3_bind_text16(_statement, _dedupe, e.DedupeKey));

            var rc = raw.sqlite3_step(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, db);
            }
            // ON CONFLICT DO NOTHING changes no row; an insert changes one, and its rowid is the id.
            // (No RETURNING: SQLite gathers RETURNING rows in a table of their own first.)
            return raw.sqlite3_changes(db) == 1 ? raw.sqlite3_last_insert_rowid(db) : null;
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    private void BindDateTime(int index, DateTime value)
    {
        Span<char> text = stackalloc char[32];
        if (!value.TryFormat(text, out var written, DateTimeFormat, CultureInfo.InvariantCulture))
        {
            throw new FormatException($"Cannot format {value:O}.");
        }
        Check(raw.sqlite3_bind_text16(_statement, index, text[..written]));
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }
    }

    public void Dispose() => _statement.Dispose();
}

public enum RecordOutcome
{
    Recorded,
    Duplicate,
}
