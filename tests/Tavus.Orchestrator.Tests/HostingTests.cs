using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Serilog.Core;
using Serilog.Events;

namespace Tavus.Orchestrator.Tests;

public sealed class HostingTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    [Fact]
    public async Task Health_endpoints_report_live_and_ready()
    {
        using var client = Factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_OpenAPI_document_has_every_route_its_answers_examples_and_the_key_schemes()
    {
        using var client = Factory.CreateClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();

        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/conversations", "/conversations/{id}", "/conversations/{id}/end", "/conversations/{id}/events",
            "/webhook", "/tenant", "/admin/tenants", "/admin/tenants/{id}/policy", "/admin/tenants/{id}/keys",
            "/tavus-sim/v2/conversations", "/tavus-sim/control/faults" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing");
        }
        var create = paths.GetProperty("/conversations").GetProperty("post");
        Assert.False(string.IsNullOrEmpty(create.Str("summary")));
        var responses = create.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
        Assert.Superset(new HashSet<string> { "201", "400", "401", "422", "429", "502", "504" }, responses.ToHashSet());
        Assert.Equal("pcb7a34da5fe", create.GetProperty("requestBody").GetProperty("content").GetProperty("application/json")
            .GetProperty("example").Str("persona_id"));
        Assert.Equal(JsonValueKind.Array, create.GetProperty("security").ValueKind);
        var webhook = paths.GetProperty("/webhook").GetProperty("post").GetProperty("responses");
        Assert.Superset(new HashSet<string> { "200", "400", "401", "413", "503" },
            webhook.EnumerateObject().Select(r => r.Name).ToHashSet());
        Assert.Contains("WebhookAck", webhook.GetProperty("200").GetRawText(), StringComparison.Ordinal);

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-Api-Key", schemes.GetProperty("TenantApiKey").Str("name"));
        Assert.Equal("X-Admin-Key", schemes.GetProperty("AdminApiKey").Str("name"));
        Assert.Equal("x-api-key", schemes.GetProperty("SimulatorApiKey").Str("name"));
    }

    [Fact]
    public async Task Swagger_UI_is_served_over_the_document()
    {
        using var client = Factory.CreateClient();
        var page = await client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var config = await client.GetStringAsync("/swagger/index.js");
        Assert.Contains("/openapi/v1.json", config, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Swagger_UI_does_not_keep_the_keys_across_browser_sessions()
    {
        using var client = Factory.CreateClient();
        var config = await client.GetStringAsync("/swagger/index.js");
        Assert.Contains("\"persistAuthorization\":false", config.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("http://localhost:5080")]
    [InlineData("http://127.0.0.2:5080")]
    [InlineData("http://[::1]:5080")]
    [InlineData("http://0.0.0.0:5080")]
    [InlineData("/callbacks")]
    [InlineData("orchestrator.example.com")]
    [InlineData("ftp://orchestrator.example.com")]
    public async Task With_Tavus_on_another_machine_a_callback_address_it_cannot_reach_stops_the_start(string? publicBaseUrl)
    {
        await using var tavus = new SimulatorHost(new FakeTimeProvider(), OrchestratorFactory.SimulatorKey);
        await using var factory = new OrchestratorFactory(tavus: tavus, settings: new()
        {
            ["Tavus:BaseUrl"] = "https://tavusapi.com",
            ["Webhooks:PublicBaseUrl"] = publicBaseUrl,
        });
        var error = Assert.Throws<OptionsValidationException>(() => factory.Server);
        Assert.Contains("Webhooks:PublicBaseUrl", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost:5090", "http://localhost:5080", "http://localhost:5080/webhook")]
    [InlineData("http://127.0.0.1:5090", null, "http://localhost:5080/webhook")]
    [InlineData("https://tavusapi.com", "https://orchestrator.example.com/base/", "https://orchestrator.example.com/base/webhook")]
    public async Task A_callback_address_Tavus_can_reach_starts_and_goes_into_the_callback_url(string tavusBaseUrl, string? publicBaseUrl, string callbackUrl)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 5, 13, 6, 42, 58, 291, TimeSpan.Zero));
        await using var tavus = new SimulatorHost(time, OrchestratorFactory.SimulatorKey);
        await using var factory = new OrchestratorFactory(time: time, tavus: tavus, settings: new()
        {
            ["Tavus:BaseUrl"] = tavusBaseUrl,
            ["Webhooks:PublicBaseUrl"] = publicBaseUrl,
        });
        var tenant = await factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");

        // The callback_url as Tavus holds it.
        using var tavusApi = tavus.CreateApiClient();
        var sent = (await tavusApi.GetFromJsonAsync<JsonElement>($"v2/conversations/{id}")).Str("callback_url");
        Assert.StartsWith(callbackUrl + "?token=", sent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_simulator_mode_no_callback_address_is_needed()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Webhooks:PublicBaseUrl"] = null });
        var tenant = await factory.CreateTenantAsync("acme");
        var created = await tenant.CreateConversationAsync();
        Assert.Equal("created", created.Str("status"));
    }

    [Fact]
    public async Task A_callback_passes_no_authentication_middleware_and_opens_no_request_scope_and_an_API_call_does_both()
    {
        var resolved = 0;
        var scopes = new ScopesSeen();
        await using var factory = new OrchestratorFactory();
        // Authentication resolves this scoped service for every request that passes it.
        factory.ConfigureServices = services => services.AddScoped<IAuthenticationHandlerProvider>(scope =>
        {
            Interlocked.Increment(ref resolved);
            return new AuthenticationHandlerProvider(scope.GetRequiredService<IAuthenticationSchemeProvider>());
        }).AddSingleton<IStartupFilter>(scopes);
        var tenant = await factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await factory.CallbackTokenAsync(id);
        var afterApiCalls = Volatile.Read(ref resolved);
        using var tavus = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await tavus.PostFixtureAsync("replica_joined.json", id, token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tavus.PostFixtureAsync("replica_joined.json", id, "not-the-token")).StatusCode);

        Assert.True(afterApiCalls > 0, "the tenant's API calls were authenticated");
        Assert.Equal(afterApiCalls, Volatile.Read(ref resolved));
        Assert.Contains(scopes.Requests, r => r is ("/conversations", StatusCodes.Status201Created, true));
        Assert.Contains(scopes.Requests, r => r is ("/webhook", StatusCodes.Status200OK, false));
        Assert.DoesNotContain(scopes.Requests, r => r is ("/webhook", StatusCodes.Status200OK, true));
    }

    /// <summary>Which requests asked for their service scope (it is created when first asked for).</summary>
    private sealed class ScopesSeen : IStartupFilter
    {
        public ConcurrentQueue<(string Path, int Status, bool Scope)> Requests { get; } = new();

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (HttpContext context, RequestDelegate rest) =>
            {
                await rest(context);
                Requests.Enqueue((context.Request.Path, context.Response.StatusCode, context.Features.Get<IServiceProvidersFeature>() is not null));
            });
            next(app);
        };
    }

    [Fact]
    public async Task A_body_that_breaks_off_is_answered_as_the_clients_error_and_not_logged_as_a_server_error()
    {
        var logs = new LogCapture();
        await using var factory = new OrchestratorFactory();
        factory.ConfigureServices = services => services
            .AddSingleton<ILogEventSink>(logs)
            .AddSingleton<IStartupFilter, BrokenBodyRoute>();
        using var client = factory.CreateClient();

        var response = await client.PostAsync(BrokenBodyRoute.Path, new StringContent("{\"persona_id\""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        // This request's events only: PostgreSQL's first start logs an EF error of its own.
        Assert.DoesNotContain(logs.Events, e => e.Level >= LogEventLevel.Error
            && e.Properties.TryGetValue("RequestPath", out var path) && path is ScalarValue { Value: BrokenBodyRoute.Path });
        Assert.NotEmpty(logs.Events); // the capture saw this host's warnings and errors
    }

    /// <summary>
    /// A route that fails the way Kestrel fails a read when the client sends less than its
    /// Content-Length or hangs up mid-body; the test server cannot break a body off itself.
    /// </summary>
    private sealed class BrokenBodyRoute : IStartupFilter
    {
        public const string Path = "/test/broken-body";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((HttpContext context, RequestDelegate rest) => context.Request.Path == Path
                ? throw new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest)
                : rest(context));
        };
    }
}
