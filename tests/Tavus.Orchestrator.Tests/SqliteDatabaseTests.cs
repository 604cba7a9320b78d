using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tavus.Orchestrator.Data.Sqlite;

namespace Tavus.Orchestrator.Tests;

/// <summary>How the service sets up its SQLite connections.</summary>
public sealed class SqliteDatabaseTests : IAsyncLifetime
{
    private readonly OrchestratorFactory _factory = new();

    public Task InitializeAsync()
    {
        _ = _factory.Server;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [SqliteFact]
    public async Task Every_connection_EFs_and_the_writers_commits_with_synchronous_FULL_waits_when_busy_and_checks_foreign_keys()
    {
        var ef = await _factory.QueryAsync(async db =>
        {
            await db.Database.OpenConnectionAsync();
            return Read(db.Database.GetDbConnection());
        });
        using var writers = _factory.Services.GetRequiredService<SqliteConnections>().Open();

        // synchronous 2 = FULL.
        Assert.Equal((2L, 10_000L, 1L), ef);
        Assert.Equal((2L, 10_000L, 1L), Read(writers));
    }

    private static (long Synchronous, long BusyTimeout, long ForeignKeys) Read(System.Data.Common.DbConnection connection)
    {
        long Pragma(string name)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA {name};";
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return (Pragma("synchronous"), Pragma("busy_timeout"), Pragma("foreign_keys"));
    }
}
