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

    /// <summary>Applies the committed migrations before the app takes requests.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        await scope.ServiceProvider.GetRequiredService<IDatabaseMigrator>().MigrateAsync(db, CancellationToken.None);
    }
}
