using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Data.Sqlite;

/// <summary>
/// The event insert on SQLite, prepared once and bound by position through SQLite's own API.
/// Microsoft.Data.Sqlite looks each parameter up by name on every execution (three prefixes,
/// a linear scan each) and allocates for every string it converts; on the writer, which runs this
/// thousands of times a second, that was about a third of its time. Text is bound as UTF-8, the
/// database's encoding, encoded into one reused buffer: bound as UTF-16, SQLite translated it
/// character by character (<c>sqlite3VdbeMemTranslate</c>, 1.6 % of the process under load). Values
/// are stored exactly as Microsoft.Data.Sqlite and EF Core store them (DateTime as ISO text), so EF reads them.
/// </summary>
internal sealed class SqliteInsert : IDisposable
{
    // Microsoft.Data.Sqlite's (and EF Core's) text form of a DateTime.
    private const string DateTimeFormat = @"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF";

    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;
    private readonly int _conversation, _kind, _type, _occurred, _received, _source, _properties, _seq, _dedupe;
    private readonly byte[] _utf8 = new byte[16 * 1024];

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
            BindText(_conversation, e.ConversationId);
            BindText(_kind, e.Kind.ToString());
            BindText(_type, e.EventType);
            BindDateTime(_occurred, e.OccurredAt);
            BindDateTime(_received, e.ReceivedAt);
            BindText(_source, e.Source.ToString());
            if (e.PropertiesUtf8 is { } utf8)
            {
                Check(raw.sqlite3_bind_text(_statement, _properties, utf8));
            }
            else
            {
                BindText(_properties, e.Properties);
            }
            Check(e.Seq is { } seq ? raw.sqlite3_bind_int64(_statement, _seq, seq) : raw.sqlite3_bind_null(_statement, _seq));
            BindText(_dedupe, e.DedupeKey);

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

    /// <summary>Binds the text as UTF-8; SQLite copies it (SQLITE_TRANSIENT), so the buffer is free again at once.</summary>
    private void BindText(int index, string value)
    {
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (length <= _utf8.Length)
        {
            Check(raw.sqlite3_bind_text(_statement, index, _utf8.AsSpan(0, Encoding.UTF8.GetBytes(value, _utf8))));
            return;
        }
        // A large body (up to Webhooks:MaxBodyBytes) borrows a buffer rather than keeping one that size.
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Check(raw.sqlite3_bind_text(_statement, index, rented.AsSpan(0, Encoding.UTF8.GetBytes(value, rented))));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void BindDateTime(int index, DateTime value)
    {
        Span<byte> text = stackalloc byte[32];
        if (!value.TryFormat(text, out var written, DateTimeFormat, CultureInfo.InvariantCulture))
        {
            throw new FormatException($"Cannot format {value:O}.");
        }
        Check(raw.sqlite3_bind_text(_statement, index, text[..written]));
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
