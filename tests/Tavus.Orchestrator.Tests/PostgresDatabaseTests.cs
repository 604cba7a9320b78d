using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Tavus.Orchestrator.Data.Postgres;

namespace Tavus.Orchestrator.Tests;

/// <summary>How the service sets up its PostgreSQL connections (nothing here connects).</summary>
public sealed class PostgresDatabaseTests
{
    [Theory]
    [InlineData("Host=db;Username=app", 32)]
    [InlineData("Host=db;Username=app;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;Username=app;max auto prepare=0", 0)]
    [InlineData("Host=db;Username=app;Max Auto Prepare=8", 8)]
    public void Statements_are_prepared_on_the_server_unless_the_connection_string_says_otherwise(string configured, int expected)
    {
        using var services = new ServiceCollection().AddLogging().AddPostgres(configured).BuildServiceProvider();

        var dataSource = services.GetRequiredService<NpgsqlDataSource>();

        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxAutoPrepare);
    }
}
