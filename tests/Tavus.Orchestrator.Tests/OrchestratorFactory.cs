using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Tavus;
using Tavus.Simulator;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// The orchestrator in simulator mode on its own SQLite file, with a fake clock shared by the
/// orchestrator and the mounted simulator. Every outbound call (orchestrator → simulator,
/// simulator → /webhook) goes through the in-memory test server: nothing reaches the network.
/// Most tests share one through <see cref="OrchestratorFixture"/>; a test that needs its own
/// configuration, clock or restart builds one here, disposed with <c>await using</c>.
/// </summary>
public sealed class OrchestratorFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key";
    public const string SimulatorKey = "sim-key";

    private readonly Dictionary<string, string?> _settings;

    private readonly SimulatorHost? _tavus;

    private readonly bool _ownsDatabase;

    /// <param name="database">The database, owned by the caller; a fresh one, dropped with this host, when null.</param>
    /// <param name="settings">Configuration over the test defaults.</param>
    /// <param name="time">The clock, shared with other hosts of the same test.</param>
    /// <param name="tavus">A standalone simulator as Tavus (shared by several instances); the mounted one when null.</param>
    public OrchestratorFactory(TestDatabase? database = null, Dictionary<string, string?>? settings = null, FakeTimeProvider? time = null,
        SimulatorHost? tavus = null)
    {
        _tavus = tavus;
        _ownsDatabase = database is null;
        Database = database ?? TestDatabase.Create();
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2025, 5, 13, 6, 42, 58, 291, TimeSpan.Zero));
        _settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = Database.Provider,
            ["ConnectionStrings:Orchestrator"] = Database.ConnectionString,
            ["Admin:ApiKey"] = AdminKey,
            ["Tavus:ApiKey"] = "",
            ["Webhooks:PublicBaseUrl"] = "http://localhost",
            ["Simulator:ApiKey"] = SimulatorKey,
            ["Serilog:MinimumLevel:Default"] = "Warning",
            // Tests make many calls from one address and key; the limits have tests of their own.
            ["RateLimits:RequestsPerSecond"] = "1000000",
            ["RateLimits:WebhookRefusalsPerMinute"] = "1000000",
            ["RateLimits:AuthFailuresPerMinute"] = "1000000",
        };
        if (tavus is not null)
        {
            _settings["Tavus:ApiKey"] = SimulatorKey;
            _settings["Tavus:BaseUrl"] = "http://tavus.test";
            // Tavus off this machine needs an address it can reach, not loopback.
            _settings["Webhooks:PublicBaseUrl"] = "http://orchestrator.test";
        }
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }
    }

    public TestDatabase Database { get; }

    public FakeTimeProvider Time { get; }

    /// <summary>Calls this instance made to Tavus, by "METHOD path" with ids replaced by {id}.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> TavusCalls { get; } = new();

    /// <summary>While set, Tavus creates the conversation but its answer never reaches the orchestrator.</summary>
    public bool LoseCreateAnswers { get; set; }

    /// <summary>More test services, set before the host starts.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            services.AddHttpClient<TavusClient>().ConfigurePrimaryHttpMessageHandler(() =>
                new LostCreateAnswers(this, new CountingHandler(TavusCalls,
                    new SocketLikeCancellation(_tavus is null ? Server.CreateHandler() : _tavus.Server.CreateHandler()))));
            services.AddHttpClient(SimulatorDefaults.CallbackHttpClientName).ConfigurePrimaryHttpMessageHandler(() => Server.CreateHandler());
            ConfigureServices?.Invoke(services);
        });
    }

    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        return client;
    }

    public HttpClient CreateTenantClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    public HttpClient CreateSimulatorClient()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://localhost/tavus-sim/") });
        client.DefaultRequestHeaders.Add("x-api-key", SimulatorKey);
        return client;
    }

    /// <summary>
    /// Creates a tenant of its own through the admin API (its id is <paramref name="name"/> and a
    /// unique suffix, so tests sharing a host never meet) and returns a client authorized as it.
    /// </summary>
    public async Task<TenantClient> CreateTenantAsync(string name, object? policy = null)
    {
        var id = UniqueId(name);
        using var admin = CreateAdminClient();
        var response = await admin.PostAsJsonAsync("/admin/tenants", new { id, name = $"Tenant {id}", policy }, Json.Options);
        response.EnsureSuccessStatusCode();
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var client = new TenantClient(Server.CreateHandler(), id) { BaseAddress = Server.BaseAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", created.GetProperty("api_key").GetString());
        return client;
    }

    /// <summary>An id no other test of a shared host uses: the name, then a short random suffix.</summary>
    public static string UniqueId(string name) => $"{name}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Reads (or changes) what the host stored, through the model rather than SQL of one provider.</summary>
    public async Task<T> QueryAsync<T>(Func<OrchestratorDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>());
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (_ownsDatabase)
            {
                await Database.DisposeAsync();
            }
            else
            {
                SqliteConnection.ClearAllPools();
                Npgsql.NpgsqlConnection.ClearAllPools();
            }
        }
    }
}

/// <summary>A client authorized as one tenant, which knows the tenant's id.</summary>
public sealed class TenantClient(HttpMessageHandler handler, string id) : HttpClient(handler)
{
    public string Id { get; } = id;
}

/// <summary>
/// The test server's handler reports a cancelled call as an aborted stream (IOException); a real
/// socket handler throws OperationCanceledException, which is what the resilience timeout
/// recognises. This restores the real behaviour for the calls that go through the test server.
/// </summary>
internal sealed class SocketLikeCancellation(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            return response;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            throw new TaskCanceledException("The request was cancelled.", ex, cancellationToken);
        }
    }
}

/// <summary>Lets a create reach Tavus, then loses the answer, as a timeout after Tavus acted would.</summary>
internal sealed class LostCreateAnswers(OrchestratorFactory factory, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (factory.LoseCreateAnswers && request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/v2/conversations", StringComparison.Ordinal))
        {
            response.Dispose();
            throw new HttpRequestException("The connection was reset after the request was sent.");
        }
        return response;
    }
}

/// <summary>Counts the calls an instance makes to Tavus, so tests can tell which instance did what.</summary>
internal sealed partial class CountingHandler(System.Collections.Concurrent.ConcurrentDictionary<string, int> counts, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = ConversationId().Replace(request.RequestUri!.AbsolutePath, "{id}");
        counts.AddOrUpdate($"{request.Method} {path}", 1, (_, n) => n + 1);
        return base.SendAsync(request, cancellationToken);
    }

    [System.Text.RegularExpressions.GeneratedRegex("(?<=/v2/conversations/)[^/]+")]
    private static partial System.Text.RegularExpressions.Regex ConversationId();
}
