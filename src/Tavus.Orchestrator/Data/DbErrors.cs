using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Tavus.Orchestrator.Data;

public static class DbErrors
{
    /// <summary>A unique index refused the write: another request (or instance) got there first.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 } => true,
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } => true,
        _ => false,
    };

    /// <summary>
    /// The database cannot take the request now, though nothing is wrong with it: SQLite stayed
    /// locked past its busy timeout, PostgreSQL is out of connections or resources (SQLSTATE 53…),
    /// starting or stopping (57P0…), unreachable, or Npgsql's pool stayed exhausted past its
    /// timeout. Answered 503 with <c>Retry-After</c>: a retry may well succeed.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SqliteException { SqliteErrorCode: 5 or 6 } // SQLITE_BUSY, SQLITE_LOCKED
                or NpgsqlException { IsTransient: true })
            {
                return true;
            }
        }
        return false;
    }
}
