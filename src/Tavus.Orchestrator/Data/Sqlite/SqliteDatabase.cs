using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Data.Sqlite;

/// <summary>The embedded database: one file, one instance (WAL, <c>synchronous=FULL</c>).</summary>
internal static class SqliteDatabase
{
    /// <summary>
    /// synchronous=FULL: a commit that returned survives power loss, not only a process crash
    /// (see README, Guarantees). busy_timeout lets concurrent writers wait instead of failing.
    /// </summary>
    public const string Pragmas = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;";

    public static IServiceCollection AddSqlite(this IServiceCollection services, string connectionString)
    {
        EnsureFolderExists(connectionString);
        // Pooled (as on PostgreSQL): a request rents a context instead of building one with its
        // internal services and loggers.
        services.AddDbContextPool<OrchestratorDbContext>(options => options
            .UseSqlite(connectionString)
            .AddInterceptors(new PragmasOnOpen()));
        services.AddSingleton(new SqliteConnections(connectionString));
        services.AddSingleton<IDatabaseDialect, SqliteDialect>();
        services.AddSingleton<IDatabaseMigrator, SqliteMigrator>();
        services.AddSingleton<IEventStore, SqliteEventStore>();
        return services;
    }

    /// <summary>The folder of the database file; null for an in-memory database.</summary>
    internal static string? FolderOf(string connectionString)
    {
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        return string.IsNullOrEmpty(dataSource) || dataSource == ":memory:" ? null : Path.GetDirectoryName(Path.GetFullPath(dataSource));
    }

    private static void EnsureFolderExists(string connectionString)
    {
        if (FolderOf(connectionString) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
        }
    }

    /// <summary>Sets <see cref="Pragmas"/> on a connection just opened: every connection, EF's and the writer's.</summary>
    internal static void SetPragmas(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    /// <summary>Every connection EF opens gets the same pragmas as the event writer's.</summary>
    private sealed class PragmasOnOpen : DbConnectionInterceptor
    {
        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => SetPragmas(connection);

        // Microsoft.Data.Sqlite runs its async calls synchronously anyway.
        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            SetPragmas(connection);
            return Task.CompletedTask;
        }
    }
}

/// <summary>Plain connections to the database file, for the event writer and its checkpointer.</summary>
internal sealed class SqliteConnections(string connectionString)
{
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        SqliteDatabase.SetPragmas(connection);
        return connection;
    }
}

/// <summary>WAL lets readers run beside the one writer; the setting is stored in the file.</summary>
internal sealed class SqliteMigrator : IDatabaseMigrator
{
    public async Task MigrateAsync(OrchestratorDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
        await db.Database.CloseConnectionAsync();
    }
}
