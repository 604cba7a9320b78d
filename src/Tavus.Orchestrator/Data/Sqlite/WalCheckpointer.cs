using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Data.Sqlite;

/// <summary>
/// Checkpoints the event writer's SQLite WAL on a thread of its own. Left to SQLite, a checkpoint
/// runs inside the commit that takes the WAL past 1000 pages: it copies them all into the database
/// file and fsyncs it, 5–15 ms in which every callback waits (in the benchmark every 60th commit or
/// so, the writer's p99; with this, half of that). Here
/// the writer turns automatic checkpoints off and reports what it wrote; past a threshold this thread
/// runs a PASSIVE checkpoint on its own connection, beside the writer, which goes on committing.
/// The WAL starts over from its beginning only once every page in it is copied, which a writer that
/// never pauses would never allow: so after each background checkpoint the writer, before its next
/// batch, copies the few pages it committed meanwhile (a short PASSIVE checkpoint of its own), and
/// its next transaction writes the WAL from the start again. Other connections (EF's) keep SQLite's
/// own automatic checkpoint, so the WAL stays bounded even when no callbacks arrive.
/// </summary>
internal sealed partial class WalCheckpointer : IDisposable
{
    private readonly SqliteConnection _writer;
    private readonly SqliteConnection _connection;
    private readonly long _everyBytes;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _due = new(0, 1);
    private readonly Thread _thread;
    private long _written;
    private int _catchUpDue;
    private volatile bool _stopping;

    private WalCheckpointer(SqliteConnection writer, SqliteConnection connection, long everyBytes, ILogger logger)
    {
        _writer = writer;
        _connection = connection;
        _everyBytes = everyBytes;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "WAL checkpointer" };
        _thread.Start();
    }

    /// <summary>Starts one for the writer's connection, which stops checkpointing by itself.</summary>
    /// <param name="writer">The writer's connection.</param>
    /// <param name="own">A connection of the checkpointer's own, which it disposes.</param>
    /// <param name="everyBytes">About how much WAL the writer adds between two checkpoints.</param>
    /// <param name="logger">The checkpointer's log.</param>
    public static WalCheckpointer Start(SqliteConnection writer, SqliteConnection own, long everyBytes, ILogger logger)
    {
        Execute(writer, "PRAGMA wal_autocheckpoint=0;");
        return new WalCheckpointer(writer, own, everyBytes, logger);
    }

    /// <summary>The writer committed these events in one transaction (its thread only).</summary>
    public void Committed(IEnumerable<EventWrite> writes)
    {
        // Roughly what the commit added to the WAL: whole pages, at least the last ones of the
        // events' table and its index and the conversation's; then each event's text and columns.
        _written += 3 * 4096;
        foreach (var write in writes)
        {
            _written += (write.Event.PropertiesUtf8?.Length ?? write.Event.Properties.Length) + 256;
        }
        // Only the writer releases: a count of 0 means the last checkpoint has started.
        if (_written >= _everyBytes && _due.CurrentCount == 0)
        {
            _written = 0;
            _due.Release();
        }
    }

    /// <summary>Before a batch (its thread only): the rest of the WAL, once the bulk is copied.</summary>
    public void CatchUp()
    {
        if (Interlocked.Exchange(ref _catchUpDue, 0) != 1)
        {
            return;
        }
        try
        {
            Execute(_writer, "PRAGMA wal_checkpoint(PASSIVE);");
        }
        catch (SqliteException ex)
        {
            // Not the writer's business to fail over: its commits do not need the checkpoint.
            Log.CheckpointFailed(_logger, ex);
        }
    }

    private void Run()
    {
        using var checkpoint = _connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        while (true)
        {
            _due.Wait();
            if (_stopping)
            {
                return;
            }
            try
            {
                var started = Stopwatch.GetTimestamp();
                using (var reader = checkpoint.ExecuteReader())
                {
                    // busy, pages in the WAL, pages copied into the database file
                    reader.Read();
                    Log.Checkpointed(_logger, reader.GetInt64(2), reader.GetInt64(1), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                Volatile.Write(ref _catchUpDue, 1);
            }
            catch (SqliteException ex)
            {
                // The next one copies what this one could not; SQLite's data is never at risk here.
                Log.CheckpointFailed(_logger, ex);
            }
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    // Event ids 120–139: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 120, Level = LogLevel.Debug, Message = "Checkpointed {Copied} of {Pages} WAL pages in {Elapsed:0.0} ms")]
        public static partial void Checkpointed(ILogger logger, long copied, long pages, double elapsed);

        [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "A WAL checkpoint failed; the next one copies its pages")]
        public static partial void CheckpointFailed(ILogger logger, Exception exception);
    }

    public void Dispose()
    {
        _stopping = true;
        if (_due.CurrentCount == 0)
        {
            _due.Release();
        }
        _thread.Join();
        _due.Dispose();
        _connection.Dispose();
    }
}
