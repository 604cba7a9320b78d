using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Data.Postgres;

/// <summary>One database for several instances behind a load balancer.</summary>
internal static class PostgresDatabase
{
    public static IServiceCollection AddPostgres(this IServiceCollection services, string configured)
    {
        // The same few statements run thousands of times a second: let Npgsql prepare them on the
        // server, unless the connection string says otherwise (Max Auto Prepare=0 behind a
        // transaction-mode PgBouncer, say).
        // (NpgsqlConnectionStringBuilder.ContainsKey says whether a keyword exists, not whether it
        // was given: the plain builder says which were.)
        var builder = new NpgsqlConnectionStringBuilder(configured);
        var given = new DbConnectionStringBuilder { ConnectionString = configured };
        if (!given.Keys.Cast<string>().Any(key => string.Equals(key.Replace(" ", "", StringComparison.Ordinal), "MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.MaxAutoPrepare = 32;
        }
        var connectionString = builder.ConnectionString;
        // Pooled (as on SQLite): a request rents a context instead of building one.
        services.AddDbContextPool<OrchestratorDbContext, PostgresOrchestratorDbContext>(options => options.UseNpgsql(connectionString));
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddSingleton<IDatabaseDialect, PostgresDialect>();
        services.AddSingleton<IDatabaseMigrator, PostgresMigrator>();
        services.AddSingleton<IEventStore, PostgresEventStore>();
        // Live streams hear of other instances' events through LISTEN/NOTIFY, not by polling.
        services.AddLiveListener(connectionString);
        return services;
    }
}

/// <summary>Several instances may start at once: PostgreSQL's migration lock lets one apply them.</summary>
internal sealed class PostgresMigrator : IDatabaseMigrator
{
    public Task MigrateAsync(OrchestratorDbContext db, CancellationToken cancellationToken) => db.Database.MigrateAsync(cancellationToken);
}
