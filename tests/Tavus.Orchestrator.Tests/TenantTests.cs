using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Serilog.Core;
using Serilog.Events;

namespace Tavus.Orchestrator.Tests;

public sealed class TenantTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    [Fact]
    public async Task No_key_or_a_wrong_key_answers_401_problem_details()
    {
        using var anonymous = Factory.CreateClient();
        using var wrong = Factory.CreateTenantClient("tvo_not-a-key");

        foreach (var client in new[] { anonymous, wrong })
        {
            var response = await client.GetAsync("/conversations");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(401, (await response.ReadJsonAsync()).GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task Another_tenants_conversation_is_not_found_on_read_end_and_events()
    {
        var acme = Tenant;
        using var globex = await Factory.CreateTenantAsync("globex");
        var id = (await acme.CreateConversationAsync()).Str("conversation_id");

        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/conversations/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.PostAsync($"/conversations/{id}/end", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/conversations/{id}/events")).StatusCode);
        Assert.Empty((await (await globex.GetAsync("/conversations")).ReadJsonAsync()).GetProperty("data").EnumerateArray());

        // And the conversation was not ended by the other tenant's request.
        Assert.Equal("created", (await acme.GetConversationAsync(id)).Str("status"));
    }

    [Fact]
    public async Task Rotating_a_key_stops_the_old_one_and_shows_the_new_one_once()
    {
        using var admin = Factory.CreateAdminClient();
        var id = OrchestratorFactory.UniqueId("acme");
        var created = await (await admin.PostAsJsonAsync("/admin/tenants", new { id, name = "Acme" }, Json.Options)).ReadJsonAsync();
        var oldKey = created.Str("api_key");

        var rotated = await admin.PostAsync($"/admin/tenants/{id}/keys", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newKey = (await rotated.ReadJsonAsync()).Str("api_key");
        Assert.NotEqual(oldKey, newKey);

        using var withOld = Factory.CreateTenantClient(oldKey);
        using var withNew = Factory.CreateTenantClient(newKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await withOld.GetAsync("/tenant")).StatusCode);
        var me = await (await withNew.GetAsync("/tenant")).ReadJsonAsync();
        Assert.Equal(id, me.Str("id"));

        var listed = await admin.GetStringAsync("/admin/tenants");
        Assert.DoesNotContain(newKey, listed, StringComparison.Ordinal);
        Assert.DoesNotContain("api_key", listed, StringComparison.Ordinal);
        Assert.Equal(0, await Factory.QueryAsync(db => db.Tenants.CountAsync(t => t.ApiKeyHash == newKey)));
    }

    [Fact]
    public async Task Creating_an_existing_tenant_is_409()
    {
        using var admin = Factory.CreateAdminClient();
        var id = OrchestratorFactory.UniqueId("acme");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/admin/tenants", new { id, name = "Acme" })).StatusCode);
        var again = await admin.PostAsJsonAsync("/admin/tenants", new { id, name = "Acme again" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task The_admin_api_wants_the_admin_key()
    {
        using var anonymous = Factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/tenants")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Tenant.GetAsync("/admin/tenants")).StatusCode);
    }

    [Fact]
    public async Task With_a_Tavus_key_and_no_admin_key_configured_the_admin_api_answers_403_even_to_the_demo_admin_key()
    {
        await using var tavus = new SimulatorHost(new FakeTimeProvider(), OrchestratorFactory.SimulatorKey);
        await using var factory = new OrchestratorFactory(settings: new() { ["Admin:ApiKey"] = "" }, tavus: tavus);
        foreach (var key in new[] { "anything", "demo-admin-key" })
        {
            using var client = factory.CreateClient();
            client.DefaultRequestHeaders.Add("X-Admin-Key", key);
            var response = await client.GetAsync("/admin/tenants");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal(403, (await response.ReadJsonAsync()).GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task In_simulator_mode_an_unset_admin_key_is_demo_admin_key_and_the_log_says_so()
    {
        var logs = new LogCapture();
        await using var factory = new OrchestratorFactory(settings: new() { ["Admin:ApiKey"] = "" });
        factory.ConfigureServices = services => services.AddSingleton<ILogEventSink>(logs);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", "demo-admin-key");

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/admin/tenants")).StatusCode);
        Assert.Contains(logs.Events, e => e.Level == LogEventLevel.Warning
            && e.RenderMessage().Contains("SIMULATOR MODE", StringComparison.Ordinal)
            && e.RenderMessage().Contains("demo-admin-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_demo_tenant_is_disabled_once_a_Tavus_key_is_set_keeps_its_conversations_and_is_enabled_again_in_simulator_mode()
    {
        await using var database = TestDatabase.Create();
        await using (var simulatorMode = new OrchestratorFactory(database))
        {
            using var demo = simulatorMode.CreateTenantClient("demo-key");
            await demo.CreateConversationAsync();
        }

        await using (var tavus = new SimulatorHost(new FakeTimeProvider(), OrchestratorFactory.SimulatorKey))
        await using (var withTavusKey = new OrchestratorFactory(database, tavus: tavus))
        {
            using var demo = withTavusKey.CreateTenantClient("demo-key");
            var refused = await demo.GetAsync("/tenant");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await demo.GetAsync("/conversations")).StatusCode);

            using var admin = withTavusKey.CreateAdminClient();
            var shown = await (await admin.GetAsync("/admin/tenants/demo")).ReadJsonAsync();
            Assert.True(shown.GetProperty("disabled").GetBoolean());
            Assert.Equal(1, await withTavusKey.QueryAsync(db => db.Conversations.CountAsync(c => c.TenantId == "demo")));
        }

        await using (var simulatorModeAgain = new OrchestratorFactory(database))
        {
            using var demo = simulatorModeAgain.CreateTenantClient("demo-key");
            var me = await (await demo.GetAsync("/tenant")).ReadJsonAsync();
            Assert.Equal("demo", me.Str("id"));
            Assert.False(me.GetProperty("disabled").GetBoolean());
            Assert.Single((await (await demo.GetAsync("/conversations")).ReadJsonAsync()).GetProperty("data").EnumerateArray());
        }
    }

    [Fact]
    public async Task With_a_Tavus_key_a_configured_tenant_with_the_public_demo_key_stops_the_start()
    {
        await using var tavus = new SimulatorHost(new FakeTimeProvider(), OrchestratorFactory.SimulatorKey);
        await using var factory = new OrchestratorFactory(tavus: tavus, settings: new()
        {
            ["Tenants:0:Id"] = "demo",
            ["Tenants:0:ApiKey"] = "demo-key",
        });
        var error = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains("demo-key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rotated_key_of_a_configured_tenant_survives_a_restart_until_the_configured_key_changes()
    {
        await using var database = TestDatabase.Create();
        var settings = new Dictionary<string, string?>
        {
            ["Tenants:0:Id"] = "seeded",
            ["Tenants:0:Name"] = "Seeded",
            ["Tenants:0:ApiKey"] = "configured-key",
            ["Serilog:MinimumLevel:Default"] = "Information",
        };
        string rotatedKey;
        await using (var first = new OrchestratorFactory(database, settings))
        {
            using var admin = first.CreateAdminClient();
            rotatedKey = (await (await admin.PostAsync("/admin/tenants/seeded/keys", null)).ReadJsonAsync()).Str("api_key");
        }

        await using (var restarted = new OrchestratorFactory(database, settings))
        {
            using var rotated = restarted.CreateTenantClient(rotatedKey);
            using var configured = restarted.CreateTenantClient("configured-key");
            Assert.Equal("seeded", (await (await rotated.GetAsync("/tenant")).ReadJsonAsync()).Str("id"));
            Assert.Equal(HttpStatusCode.Unauthorized, (await configured.GetAsync("/tenant")).StatusCode);
        }

        // The operator changes the configured key on purpose: it replaces the rotated one, and the log says so.
        settings["Tenants:0:ApiKey"] = "changed-key";
        var logs = new LogCapture();
        await using (var reconfigured = new OrchestratorFactory(database, settings))
        {
            reconfigured.ConfigureServices = services => services.AddSingleton<ILogEventSink>(logs);
            using var changed = reconfigured.CreateTenantClient("changed-key");
            using var rotated = reconfigured.CreateTenantClient(rotatedKey);
            Assert.Equal("seeded", (await (await changed.GetAsync("/tenant")).ReadJsonAsync()).Str("id"));
            Assert.Equal(HttpStatusCode.Unauthorized, (await rotated.GetAsync("/tenant")).StatusCode);
        }
        Assert.Contains(logs.Events, e => e.MessageTemplate.Text.Contains("key in configuration changed", StringComparison.Ordinal)
            && e.Properties["TenantId"] is ScalarValue { Value: "seeded" });
        Assert.DoesNotContain("changed-key", logs.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulator_mode_seeds_the_demo_tenant_and_configured_tenants()
    {
        await using var factory = new OrchestratorFactory(settings: new()
        {
            ["Tenants:0:Id"] = "seeded",
            ["Tenants:0:Name"] = "Seeded",
            ["Tenants:0:ApiKey"] = "seeded-key",
            ["Tenants:0:Policy:MaxCallDuration:Default"] = "900",
            ["Tenants:0:Policy:MaxCallDuration:Min"] = "60",
            ["Tenants:0:Policy:MaxCallDuration:Max"] = "1200",
            ["Tenants:0:Policy:Enforcement"] = "clamp",
        });
        using var demo = factory.CreateTenantClient("demo-key");
        Assert.Equal("demo", (await (await demo.GetAsync("/tenant")).ReadJsonAsync()).Str("id"));

        using var seeded = factory.CreateTenantClient("seeded-key");
        var me = await (await seeded.GetAsync("/tenant")).ReadJsonAsync();
        Assert.Equal(900, me.GetProperty("policy").GetProperty("max_call_duration").GetProperty("default").GetInt32());
        Assert.Equal("clamp", me.GetProperty("policy").Str("enforcement"));
    }

    [Fact]
    public async Task Listing_pages_newest_first_with_a_cursor_and_filters_by_status()
    {
        var tenant = Tenant;
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await tenant.CreateConversationAsync()).Str("conversation_id"));
            Factory.Time.Advance(TimeSpan.FromMilliseconds(10));
        }
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await (await tenant.GetAsync($"/conversations?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}")).ReadJsonAsync();
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(c => c.Str("conversation_id")));
            cursor = page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null ? null : page.Str("next_cursor");
        }
        while (cursor is not null);
        Assert.Equal(ids.AsEnumerable().Reverse(), seen);

        await tenant.PostAsync($"/conversations/{ids[0]}/end", null);
        await tenant.WaitForStatusAsync(ids[0], "ended");
        var ended = await (await tenant.GetAsync("/conversations?status=ended")).ReadJsonAsync();
        Assert.Equal([ids[0]], ended.GetProperty("data").EnumerateArray().Select(c => c.Str("conversation_id")));

        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.GetAsync("/conversations?status=bogus")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.GetAsync("/conversations?limit=1000")).StatusCode);
    }
}
