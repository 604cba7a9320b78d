using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Tavus.Orchestrator.Tests;

/// <summary>Each test makes the tenants whose policies it needs.</summary>
public sealed class PolicyTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private static readonly object ExamplePolicy = new
    {
        max_call_duration = new { @default = 1800, min = 60, max = 3600 },
        participant_left_timeout = new { @default = 60, min = 0, max = 600 },
        participant_absent_timeout = new { @default = 300, min = 0, max = 900 },
        max_concurrent_conversations = 2,
        enforcement = "reject",
    };

    [Fact]
    public async Task Timers_left_out_take_the_tenant_defaults()
    {
        var tenant = await Factory.CreateTenantAsync("acme", ExamplePolicy);
        var created = await tenant.CreateConversationAsync();

        var properties = created.GetProperty("properties");
        Assert.Equal(1800, properties.GetProperty("max_call_duration").GetInt32());
        Assert.Equal(60, properties.GetProperty("participant_left_timeout").GetInt32());
        Assert.Equal(300, properties.GetProperty("participant_absent_timeout").GetInt32());
        Assert.Empty(created.GetProperty("adjustments").EnumerateArray());
        Assert.Equal(tenant.Id, created.Str("tenant_id"));

        // What reached Tavus is what the answer says.
        using var simulator = Factory.CreateSimulatorClient();
        var deliveredTo = await simulator.GetFromJsonAsync<JsonElement>($"v2/conversations/{created.Str("conversation_id")}");
        Assert.StartsWith("http://localhost/webhook?token=", deliveredTo.Str("callback_url"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tenant_without_a_policy_gets_Tavus_defaults()
    {
        var tenant = await Factory.CreateTenantAsync("plain");
        var created = await tenant.CreateConversationAsync();

        var properties = created.GetProperty("properties");
        Assert.Equal(3600, properties.GetProperty("max_call_duration").GetInt32());
        Assert.Equal(0, properties.GetProperty("participant_left_timeout").GetInt32());
        Assert.Equal(300, properties.GetProperty("participant_absent_timeout").GetInt32());
    }

    [Fact]
    public async Task Reject_refuses_a_timer_outside_the_bounds_with_422_naming_the_field()
    {
        var tenant = await Factory.CreateTenantAsync("acme", ExamplePolicy);
        var response = await tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(new { max_call_duration = 30 }), Json.Options);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(422, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty("properties.max_call_duration", out _));
        Assert.Equal(0, await Factory.QueryAsync(db => db.Conversations.CountAsync(c => c.TenantId == tenant.Id)));
    }

    [Fact]
    public async Task Clamp_brings_timers_into_the_bounds_and_lists_the_adjustments()
    {
        var tenant = await Factory.CreateTenantAsync("acme", new
        {
            max_call_duration = new { @default = 1800, min = 60, max = 3000 },
            participant_left_timeout = new { @default = 60, min = 10, max = 600 },
            enforcement = "clamp",
        });
        var created = await tenant.CreateConversationAsync(new { max_call_duration = 3600, participant_left_timeout = 0 });

        Assert.Equal(3000, created.GetProperty("properties").GetProperty("max_call_duration").GetInt32());
        Assert.Equal(10, created.GetProperty("properties").GetProperty("participant_left_timeout").GetInt32());
        var adjustments = created.GetProperty("adjustments").EnumerateArray().ToList();
        Assert.Equal(2, adjustments.Count);
        Assert.Contains(adjustments, a => a.Str("field") == "properties.max_call_duration" &&
            a.GetProperty("requested").GetInt32() == 3600 && a.GetProperty("applied").GetInt32() == 3000);

        using var simulator = Factory.CreateSimulatorClient();
        var atTavus = await simulator.GetFromJsonAsync<JsonElement>($"v2/conversations/{created.Str("conversation_id")}?verbose=true");
        Assert.Equal("active", atTavus.Str("status"));
    }

    public static TheoryData<string, string> InvalidPolicies => new()
    {
        { """{"max_call_duration": {"default": 1800, "min": 60, "max": 7200}}""", "policy.max_call_duration" },
        { """{"max_call_duration": {"default": 30, "min": 60, "max": 3600}}""", "policy.max_call_duration" },
        { """{"participant_left_timeout": {"default": 60, "min": 100, "max": 50}}""", "policy.participant_left_timeout" },
        { """{"participant_absent_timeout": {"default": -1, "min": -5, "max": 900}}""", "policy.participant_absent_timeout" },
        { """{"participant_absent_timeout": {"default": 10}}""", "policy.participant_absent_timeout" },
        { """{"max_concurrent_conversations": 0}""", "policy.max_concurrent_conversations" },
    };

    [Theory]
    [MemberData(nameof(InvalidPolicies))]
    public async Task An_invalid_policy_is_refused_with_400_naming_the_field(string policy, string field)
    {
        using var admin = Factory.CreateAdminClient();
        var create = await admin.PostAsync("/admin/tenants", new StringContent(
            $$"""{"id": "bad", "name": "Bad", "policy": {{policy}} }""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        Assert.True((await create.ReadJsonAsync()).GetProperty("errors").TryGetProperty(field, out _));

        using var good = await Factory.CreateTenantAsync("good");
        var replace = await admin.PutAsync($"/admin/tenants/{good.Id}/policy", new StringContent(policy, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, replace.StatusCode);
        Assert.True((await replace.ReadJsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task A_replaced_policy_applies_to_new_conversations()
    {
        var tenant = await Factory.CreateTenantAsync("acme");
        using var admin = Factory.CreateAdminClient();
        var replaced = await admin.PutAsJsonAsync($"/admin/tenants/{tenant.Id}/policy", ExamplePolicy, Json.Options);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);

        var created = await tenant.CreateConversationAsync();
        Assert.Equal(1800, created.GetProperty("properties").GetProperty("max_call_duration").GetInt32());
        var own = await (await tenant.GetAsync("/tenant")).ReadJsonAsync();
        Assert.Equal(2, own.GetProperty("policy").GetProperty("max_concurrent_conversations").GetInt32());
    }

    [Fact]
    public async Task The_misspelt_max_call_durations_is_refused_with_a_suggestion()
    {
        var tenant = await Factory.CreateTenantAsync("acme");
        var response = await tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(new { max_call_durations = 600 }), Json.Options);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        var message = errors.GetProperty("properties.max_call_durations")[0].GetString();
        Assert.Contains("did you mean `max_call_duration`", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_callback_url_in_the_body_is_refused()
    {
        var tenant = await Factory.CreateTenantAsync("acme");
        var response = await tenant.PostAsync("/conversations", new StringContent(
            """{"persona_id": "p1", "callback_url": "https://evil.example/hook"}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("callback_url", out _));
    }

    [Fact]
    public async Task A_tenant_at_its_concurrency_cap_gets_429_until_one_ends()
    {
        var tenant = await Factory.CreateTenantAsync("acme", ExamplePolicy);
        var first = await tenant.CreateConversationAsync();
        await tenant.CreateConversationAsync();

        var third = await tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal(429, (await third.ReadJsonAsync()).GetProperty("status").GetInt32());

        await tenant.PostAsync($"/conversations/{first.Str("conversation_id")}/end", null);
        await tenant.WaitForStatusAsync(first.Str("conversation_id"), "ended");
        await tenant.CreateConversationAsync();
    }
}
