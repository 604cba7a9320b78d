using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// The database a test host runs on: a fresh SQLite file, or, with
/// <c>TEST_DATABASE_PROVIDER=Postgres</c>, a fresh database on the PostgreSQL server at
/// <c>TEST_POSTGRES_CONNECTION</c> (default: postgres/postgres on 127.0.0.1). Disposing it removes
/// the file (with its -wal and -shm) or drops the database.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string provider, string connectionString)
    {
        Provider = provider;
        ConnectionString = connectionString;
    }

    public static bool UsePostgres =>
        string.Equals(Environment.GetEnvironmentVariable("TEST_DATABASE_PROVIDER"), "Postgres", StringComparison.OrdinalIgnoreCase);

    private static string PostgresServer =>
        Environment.GetEnvironmentVariable("TEST_POSTGRES_CONNECTION") ?? "Host=127.0.0.1;Username=postgres;Password=postgres";

    /// <summary>"Sqlite" or "Postgres", as Database:Provider takes it.</summary>
    public string Provider { get; }

    public string ConnectionString { get; }

    public static TestDatabase Create()
    {
        if (!UsePostgres)
        {
            var path = Path.Combine(Path.GetTempPath(), "tavus-orchestrator-tests", $"{Guid.NewGuid():N}.db");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new TestDatabase("Sqlite", $"Data Source={path}");
        }
        var name = $"tavus_test_{Guid.NewGuid():N}";
        using (var server = new NpgsqlConnection(PostgresServer + ";Database=postgres;Pooling=False"))
        {
            server.Open();
            using var create = server.CreateCommand();
            create.CommandText = $"CREATE DATABASE \"{name}\"";
            create.ExecuteNonQuery();
        }
        return new TestDatabase("Postgres", new NpgsqlConnectionStringBuilder(PostgresServer) { Database = name }.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        if (Provider == "Postgres")
        {
            // Pooled connections would hold the database open; FORCE ends any a host left behind.
            NpgsqlConnection.ClearAllPools();
            var name = new NpgsqlConnectionStringBuilder(ConnectionString).Database;
            await using var server = new NpgsqlConnection(PostgresServer + ";Database=postgres;Pooling=False");
            await server.OpenAsync();
            await using var drop = server.CreateCommand();
            drop.CommandText = $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)";
            await drop.ExecuteNonQueryAsync();
            return;
        }
        SqliteConnection.ClearAllPools();
        var path = new SqliteConnectionStringBuilder(ConnectionString).DataSource;
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }
    }

    public DbConnection Open()
    {
        DbConnection connection = Provider == "Postgres"
            ? new NpgsqlConnection(ConnectionString + ";Pooling=False")
            : new SqliteConnection(ConnectionString + ";Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>The model over this database, for a test that reads what a host (or a killed process) stored.</summary>
    public OrchestratorDbContext CreateContext()
    {
        var options = new DbContextOptionsBuilder<OrchestratorDbContext>();
        if (Provider == "Postgres")
        {
            options.UseNpgsql(ConnectionString);
        }
        else
        {
            options.UseSqlite(ConnectionString);
        }
        return new OrchestratorDbContext(options.Options);
    }

    /// <summary>Holds a lock that stops every insert of events until the returned connection commits.</summary>
    public async Task<DbConnection> BlockEventWritesAsync()
    {
        var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = Provider == "Postgres"
            ? "BEGIN; LOCK TABLE \"ConversationEvents\" IN EXCLUSIVE MODE;"
            : "BEGIN IMMEDIATE;";
        await command.ExecuteNonQueryAsync();
        return connection;
    }
}

/// <summary>A test of SQLite's own machinery: skipped when the tests run on PostgreSQL.</summary>
public sealed class SqliteFactAttribute : FactAttribute
{
    public SqliteFactAttribute()
    {
        if (TestDatabase.UsePostgres)
        {
            Skip = "SQLite only";
        }
    }
}

/// <summary>A test of PostgreSQL's own machinery (LISTEN/NOTIFY): skipped when the tests run on SQLite.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabase.UsePostgres)
        {
            Skip = "PostgreSQL only";
        }
    }
}
