using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using Tavus.Orchestrator.Data.Postgres;

namespace Tavus.Orchestrator.Data;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Orchestrator";

    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<SqliteWriteGate>();
        var connectionString = ConnectionString(builder.Configuration);
        if (Provider(builder.Configuration) == DatabaseProvider.Postgres)
        {
            builder.Services.AddDbContext<OrchestratorDbContext, PostgresOrchestratorDbContext>(options => options
                .UseNpgsql(connectionString));
            builder.Services.AddLiveListener(connectionString);
        }
        else
        {
            EnsureFolderExists(connectionString);
            builder.Services.AddDbContext<OrchestratorDbContext>(options => options
                .UseSqlite(connectionString)
                .AddInterceptors(new SqlitePragmas()));
        }
        return builder;
    }

    public static DatabaseProvider Provider(IConfiguration configuration) =>
        configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>()?.Provider ?? DatabaseProvider.Sqlite;

    /// <summary>Opens a plain ADO.NET connection for the hot path, with the provider's settings.</summary>
    public static async Task<DbConnection> OpenConnectionAsync(IConfiguration configuration, CancellationToken cancellationToken)
    {
        var connectionString = ConnectionString(configuration);
        DbConnection connection = Provider(configuration) == DatabaseProvider.Postgres
            ? new NpgsqlConnection(connectionString)
            : new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        if (connection is SqliteConnection)
        {
            await ApplyPragmasAsync(connection, cancellationToken);
        }
        return connection;
    }

    public static string ConnectionString(IConfiguration configuration)
    {
        var configured = configuration.GetConnectionString(ConnectionStringName) ?? "Data Source=data/orchestrator.db";
        if (Provider(configuration) != DatabaseProvider.Postgres)
        {
            return configured;
        }
        // The same few statements run thousands of times a second: let Npgsql prepare them on the
        // server, unless the connection string says otherwise (Max Auto Prepare=0 behind a
        // transaction-mode PgBouncer, say).
        var builder = new NpgsqlConnectionStringBuilder(configured);
        if (!builder.ContainsKey("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = 32;
        }
        return builder.ConnectionString;
    }

    /// <summary>
    /// synchronous=FULL: a commit that returned survives power loss, not only a process crash
    /// (see README, Guarantees). busy_timeout lets concurrent writers wait instead of failing.
    /// </summary>
    private const string Pragmas = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;";

    public static async Task ApplyPragmasAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Applies the committed migrations before the app takes requests.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        if (db.Database.IsSqlite())
        {
            // WAL lets readers run beside the one writer; the setting is stored in the file.
            await db.Database.OpenConnectionAsync();
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            await db.Database.MigrateAsync();
            await db.Database.CloseConnectionAsync();
        }
        else
        {
            // Several instances may start at once: PostgreSQL's migration lock lets one apply them.
            await db.Database.MigrateAsync();
        }
    }

    private static void EnsureFolderExists(string connectionString)
    {
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(dataSource) || dataSource == ":memory:")
        {
            return;
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
    }

    /// <summary>Every connection EF opens gets the same pragmas as the event writer's.</summary>
    private sealed class SqlitePragmas : DbConnectionInterceptor
    {
        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
        }

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default) =>
            ApplyPragmasAsync(connection, cancellationToken);
    }
}
