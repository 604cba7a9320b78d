using Tavus.Orchestrator.Data.Postgres;
using Tavus.Orchestrator.Data.Sqlite;

namespace Tavus.Orchestrator.Data;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Orchestrator";

    /// <summary>
    /// The database, chosen here once: the EF Core context and, for the hot paths, the event store
    /// (<see cref="Conversations.IEventStore"/>), the dialect (<see cref="IDatabaseDialect"/>) and
    /// the migrator of SQLite (<c>Data/Sqlite/</c>) or PostgreSQL (<c>Data/Postgres/</c>).
    /// </summary>
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        var provider = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>()?.Provider ?? DatabaseProvider.Sqlite;
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName) ?? "Data Source=data/orchestrator.db";
        if (provider == DatabaseProvider.Postgres)
        {
            builder.Services.AddPostgres(connectionString);
        }
        else
        {
            builder.Services.AddSqlite(connectionString);
        }
        return builder;
    }

    /// <summary>
    /// The folder of the SQLite file, where what must be kept with the database goes (the keys that
    /// protect notification secrets); null on PostgreSQL.
    /// </summary>
    public static string? SqliteFolder(IConfiguration configuration)
    {
        var provider = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>()?.Provider ?? DatabaseProvider.Sqlite;
        return provider == DatabaseProvider.Sqlite
            ? SqliteDatabase.FolderOf(configuration.GetConnectionString(ConnectionStringName) ?? "Data Source=data/orchestrator.db")
            : null;
    }

    /// <summary>Applies the committed migrations before the app takes requests.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        await scope.ServiceProvider.GetRequiredService<IDatabaseMigrator>().MigrateAsync(db, CancellationToken.None);
    }
}
