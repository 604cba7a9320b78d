using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Data.Postgres;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// A database that cannot take a request now (PostgreSQL out of connections, SQLite locked past its
/// busy timeout) is the service's trouble, not the client's: 503 with Retry-After, never a 500.
/// </summary>
public sealed class DatabaseBusyTests : IAsyncLifetime
{
    private readonly RefuseConnections _refuse = new();
    private OrchestratorFactory _factory = null!;

    public Task InitializeAsync()
    {
        _factory = new OrchestratorFactory();
        _factory.ConfigureServices = services =>
        {
            // The interceptor throws what the provider itself throws when it cannot connect.
            if (TestDatabase.UsePostgres)
            {
                services.ConfigureDbContext<PostgresOrchestratorDbContext>(options => options.AddInterceptors(_refuse));
            }
            else
            {
                services.ConfigureDbContext<OrchestratorDbContext>(options => options.AddInterceptors(_refuse));
            }
        };
        _ = _factory.Server;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Reads_and_writes_answer_503_with_Retry_After_while_the_database_refuses_then_succeed()
    {
        var tenant = await _factory.CreateTenantAsync("acme");
        using var admin = _factory.CreateAdminClient();

        _refuse.Refusing = true;
        var list = await tenant.GetAsync("/conversations");
        var create = await tenant.PostAsJsonAsync("/conversations", new { persona_id = "p1" });
        var adminList = await admin.GetAsync("/admin/tenants");

        foreach (var response in new[] { list, create, adminList })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.ReadJsonAsync();
            Assert.Equal("tag:tavus-orchestrator,2026:problems/database-busy", problem.GetProperty("type").GetString());
            Assert.DoesNotContain("53300", problem.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain("locked", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        }
        Assert.True(_refuse.Refused >= 3);

        _refuse.Refusing = false;
        Assert.Equal(HttpStatusCode.OK, (await tenant.GetAsync("/conversations")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await tenant.PostAsJsonAsync("/conversations", new { persona_id = "p1" })).StatusCode);
    }

    [PostgresFact]
    public async Task A_writer_connection_the_server_cut_is_opened_again_and_the_callbacks_on_it_are_stored()
    {
        using var tavus = _factory.CreateClient();
        var (tenant, id, token) = await ConversationWithACallbackStoredAsync(tavus);

        // What a server restart, a failover or an operator's pg_terminate_backend does to it.
        Assert.Equal(1L, await OnServerAsync(CutWriterSql));

        foreach (var fixture in new[] { "transcription_ready.json", "shutdown_participant_left_timeout.json" })
        {
            var response = await tavus.PostFixtureAsync(fixture, id, token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("recorded", (await response.ReadJsonAsync()).Str("status"));
        }
        Assert.Equal("ended", (await tenant.GetConversationAsync(id)).Str("status"));
    }

    [PostgresFact]
    public async Task A_writer_that_cannot_reconnect_answers_503_and_stores_again_once_the_database_is_back()
    {
        using var tavus = _factory.CreateClient();
        var (_, id, token) = await ConversationWithACallbackStoredAsync(tavus);

        // This database lets no new connection in, and the writer's is cut.
        Assert.Equal(1L, await OnServerAsync(database => $"""ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false; {CutWriterSql(database)}"""));
        try
        {
            var refused = await tavus.PostFixtureAsync("transcription_ready.json", id, token);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
        }
        finally
        {
            await OnServerAsync(database => $"""ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true; SELECT 0::bigint;""");
        }

        var stored = await tavus.PostFixtureAsync("transcription_ready.json", id, token);
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal("recorded", (await stored.ReadJsonAsync()).Str("status"));
    }

    /// <summary>A conversation whose first callback is stored: the writer has its connection.</summary>
    private async Task<(TenantClient Tenant, string Id, string Token)> ConversationWithACallbackStoredAsync(HttpClient tavus)
    {
        var tenant = await _factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await _factory.CallbackTokenAsync(id);
        Assert.Equal(HttpStatusCode.OK, (await tavus.PostFixtureAsync("replica_joined.json", id, token)).StatusCode);
        return (tenant, id, token);
    }

    /// <summary>Ends the event writer's connection to the database; how many it ended.</summary>
    private static string CutWriterSql(string database) => $"""
        SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE application_name = '{PostgresEventStore.ApplicationName}' AND datname = '{database}';
        """;

    /// <summary>
    /// Runs SQL about the test database (its name given to <paramref name="sql"/>; ALTER DATABASE
    /// takes no parameters) on a connection to the server's <c>postgres</c> database; the last result.
    /// </summary>
    private async Task<long> OnServerAsync(Func<string, string> sql)
    {
        var server = new NpgsqlConnectionStringBuilder(await _factory.QueryAsync(db => Task.FromResult(db.Database.GetConnectionString()!)));
        var database = server.Database!;
        (server.Database, server.Pooling) = ("postgres", false);
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql(database), connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public void Only_a_database_that_cannot_take_the_request_now_is_unavailable()
    {
        Assert.True(DbErrors.IsUnavailable(new DbUpdateException("x", new SqliteException("database is locked", 5))));
        Assert.True(DbErrors.IsUnavailable(new PostgresException("too many clients", "FATAL", "FATAL", "53300")));
        Assert.True(DbErrors.IsUnavailable(new NpgsqlException("The connection pool has been exhausted", new TimeoutException())));
        Assert.False(DbErrors.IsUnavailable(new DbUpdateException("x", new SqliteException("constraint", 19))));
        Assert.False(DbErrors.IsUnavailable(new PostgresException("syntax", "ERROR", "ERROR", "42601")));
        Assert.False(DbErrors.IsUnavailable(new InvalidOperationException("bug")));
    }

    /// <summary>While refusing, every connection EF opens fails as the provider fails when it cannot connect.</summary>
    private sealed class RefuseConnections : DbConnectionInterceptor
    {
        private int _refused;

        public volatile bool Refusing;

        public int Refused => _refused;

        public override InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
        {
            ThrowWhenRefusing();
            return result;
        }

        public override ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData,
            InterceptionResult result, CancellationToken cancellationToken = default)
        {
            ThrowWhenRefusing();
            return ValueTask.FromResult(result);
        }

        private void ThrowWhenRefusing()
        {
            if (!Refusing)
            {
                return;
            }
            Interlocked.Increment(ref _refused);
            throw TestDatabase.UsePostgres
                ? new PostgresException("sorry, too many clients already", "FATAL", "FATAL", PostgresErrorCodes.TooManyConnections)
                : new SqliteException("SQLite Error 5: 'database is locked'.", 5);
        }
    }
}
