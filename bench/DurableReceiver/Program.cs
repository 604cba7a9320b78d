// The second baseline for bench/run.sh: the least a receiver can do that answers a Tavus callback
// only once it is durable. POST /webhook reads the body, takes conversation_id, event_type and seq
// from it, and queues it; one writer thread inserts what is queued in one transaction in SQLite
// (WAL, synchronous=FULL, the settings the orchestrator uses) and completes the requests after the
// commit. No token check, no lifecycle, no logging, a plain Microsoft.Data.Sqlite prepared insert.
// The orchestrator's ingest compared with this one is the cost of what it does beyond storing;
// this one compared with bench/EmptyEndpoint is the cost of a durable write on this machine.
// With --Postgres "<connection string>" the writer commits to PostgreSQL instead (the floor of the
// orchestrator on PostgreSQL): one INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING per batch.
// With --Obliged true it also keeps the obligations of Obligations.cs (token, logging, telemetry…);
// with --Guarded true as well (PostgreSQL), the guarantees of the orchestrator's schema (Guarded.cs).

using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

var builder = WebApplication.CreateSlimBuilder(args);
// Warnings only, as the empty endpoint.
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var database = builder.Configuration["Database"] ?? "durable-receiver.db";
var postgres = builder.Configuration["Postgres"];
var guarded = builder.Configuration.GetValue<bool>("Guarded");
using var obliged = builder.Configuration.GetValue<bool>("Obliged") ? Obligations.Add(builder) : null;

var app = builder.Build();
if (obliged is not null)
{
    Obligations.Use(app);
}

var queue = Channel.CreateBounded<Callback>(new BoundedChannelOptions(10_000) { SingleReader = true });
var writer = new Thread(() =>
{
    if (postgres is null)
    {
        Store(database, queue.Reader, obliged);
    }
    else if (guarded)
    {
        Guarded.Store(postgres, queue.Reader, obliged);
    }
    else
    {
        StoreInPostgres(postgres, queue.Reader, obliged);
    }
})
{ IsBackground = true, Name = "Writer" };
writer.Start();

var recorded = """{"status":"recorded"}"""u8.ToArray();
var duplicate = """{"status":"duplicate"}"""u8.ToArray();

var documentOptions = new JsonDocumentOptions { AllowDuplicateProperties = obliged is null };
app.MapPost("/webhook", async (HttpContext context) =>
{
    if (obliged is not null && !obliged.IsKnownToken(context.Request.Query["token"]))
    {
        return Results.Unauthorized();
    }
    using var body = new MemoryStream((int)(context.Request.ContentLength ?? 4096));
    await context.Request.Body.CopyToAsync(body, context.RequestAborted);
    var json = body.GetBuffer().AsMemory(0, (int)body.Length);
    Callback callback;
    try
    {
        using var document = JsonDocument.Parse(json, documentOptions);
        var root = document.RootElement;
        callback = new Callback(root.GetProperty("conversation_id").GetString()!, root.GetProperty("event_type").GetString()!,
            root.TryGetProperty("seq", out var seq) ? seq.GetInt64() : null, System.Text.Encoding.UTF8.GetString(json.Span));
    }
    catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
    {
        return Results.BadRequest();
    }
    if (!queue.Writer.TryWrite(callback))
    {
        return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
    }
    await callback.Stored.Task;
    return Results.Bytes(callback.Duplicate ? duplicate : recorded, "application/json");
});

await app.RunAsync();

static void Store(string database, ChannelReader<Callback> queue, Obligations? obliged)
{
    using var connection = new SqliteConnection($"Data Source={database}");
    connection.Open();
    using (var setup = connection.CreateCommand())
    {
        setup.CommandText = """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS callbacks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                conversation_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                seq INTEGER,
                payload TEXT NOT NULL,
                received_at TEXT NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS callbacks_conversation_seq ON callbacks (conversation_id, seq);
            """;
        setup.ExecuteNonQuery();
    }
    using var insert = connection.CreateCommand();
    insert.CommandText = """
        INSERT INTO callbacks (conversation_id, event_type, seq, payload, received_at)
        VALUES ($conversation_id, $event_type, $seq, $payload, $received_at)
        ON CONFLICT DO NOTHING
        """;
    var conversationId = insert.Parameters.Add("$conversation_id", SqliteType.Text);
    var eventType = insert.Parameters.Add("$event_type", SqliteType.Text);
    var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
    var payload = insert.Parameters.Add("$payload", SqliteType.Text);
    var receivedAt = insert.Parameters.Add("$received_at", SqliteType.Text);
    insert.Prepare();

    var batch = new List<Callback>();
    while (queue.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using (var transaction = connection.BeginTransaction())
        {
            insert.Transaction = transaction;
            while (batch.Count < 1024 && queue.TryRead(out var callback))
            {
                conversationId.Value = callback.ConversationId;
                eventType.Value = callback.EventType;
                seq.Value = (object?)callback.Seq ?? DBNull.Value;
                payload.Value = callback.Payload;
                receivedAt.Value = DateTime.UtcNow;
                insert.ExecuteNonQuery();
                batch.Add(callback);
            }
            transaction.Commit();
        }
        obliged?.Committed(batch.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        foreach (var callback in batch)
        {
            callback.Stored.TrySetResult();
        }
        batch.Clear();
    }
}

static void StoreInPostgres(string connectionString, ChannelReader<Callback> queue, Obligations? obliged)
{
    using var connection = new NpgsqlConnection(connectionString);
    connection.Open();
    using (var setup = connection.CreateCommand())
    {
        setup.CommandText = """
            CREATE TABLE IF NOT EXISTS callbacks (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                conversation_id text NOT NULL,
                event_type text NOT NULL,
                seq bigint,
                payload text NOT NULL,
                received_at timestamptz NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS callbacks_conversation_seq ON callbacks (conversation_id, seq);
            """;
        setup.ExecuteNonQuery();
    }
    foreach (var batch in Callback.Batches(queue, obliged))
    {
        using var transaction = connection.BeginTransaction();
        using var insert = new NpgsqlCommand("""
            INSERT INTO callbacks (conversation_id, event_type, seq, payload, received_at)
            SELECT c, t, s, p, now() FROM unnest(@c, @t, @s, @p) AS e(c, t, s, p)
            ON CONFLICT DO NOTHING
            """, connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<string[]>("c", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. batch.Select(b => b.ConversationId)] });
        insert.Parameters.Add(new NpgsqlParameter<string[]>("t", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. batch.Select(b => b.EventType)] });
        insert.Parameters.Add(new NpgsqlParameter<long?[]>("s", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = [.. batch.Select(b => b.Seq)] });
        insert.Parameters.Add(new NpgsqlParameter<string[]>("p", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. batch.Select(b => b.Payload)] });
        insert.ExecuteNonQuery();
        transaction.Commit();
    }
}

internal sealed record Callback(string ConversationId, string EventType, long? Seq, string Payload)
{
    public TaskCompletionSource Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set by a writer that tells duplicates apart (Guarded.cs) before <see cref="Stored"/> completes.</summary>
    public bool Duplicate { get; set; }

    /// <summary>
    /// What is queued, up to 1,024 at a time, for a writer to store; each batch's requests are
    /// answered (and its commit logged and counted, when obliged) once the writer asks for the next.
    /// </summary>
    public static IEnumerable<List<Callback>> Batches(ChannelReader<Callback> queue, Obligations? obliged)
    {
        var batch = new List<Callback>();
        while (queue.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (batch.Count < 1024 && queue.TryRead(out var callback))
            {
                batch.Add(callback);
            }
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            yield return batch;
            obliged?.Committed(batch.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            foreach (var callback in batch)
            {
                callback.Stored.TrySetResult();
            }
            batch.Clear();
        }
    }
}
