using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Tavus.Orchestrator.Data;

public static class DbErrors
{
    /// <summary>A unique index refused the write: another request got there first.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };
}
