using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// The database a test host runs on: a fresh SQLite file, or, with
/// <c>TEST_DATABASE_PROVIDER=Postgres</c>, a fresh database on the PostgreSQL server at
/// <c>TEST_POSTGRES_CONNECTION</c> (default: postgres/postgres on 127.0.0.1).
/// </summary>
public sealed class TestDatabase
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

    public DbConnection Open()
    {
        DbConnection connection = Provider == "Postgres"
            ? new NpgsqlConnection(ConnectionString + ";Pooling=False")
            : new SqliteConnection(ConnectionString + ";Pooling=False");
        connection.Open();
        return connection;
    }

    public long Scalar(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public int Execute(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
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
