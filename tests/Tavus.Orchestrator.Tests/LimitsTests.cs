using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Tavus.Orchestrator.Tests;

/// <summary>"Limits and refusals" in the contract, one case each, as a client or a stranger meets them.</summary>
public sealed class LimitsTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{

    [Theory]
    [InlineData("/tenant", "X-Api-Key", "text/event-stream")]
    [InlineData("/conversations", "X-Api-Key", "text/html")]
    [InlineData("/conversations/c1/events", "X-Api-Key", "application/xml")]
    [InlineData("/admin/tenants", "X-Admin-Key", "text/event-stream")]
    [InlineData("/admin/tenants", "X-Admin-Key", "text/html")]
    [InlineData("/admin/tenants/acme", null, "application/xml")]
    public async Task A_wrong_or_missing_key_is_401_ProblemDetails_whatever_the_client_accepts(string path, string? header, string accept)
    {
        using var client = Factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);
        if (header is not null)
        {
            request.Headers.Add(header, "wrong");
        }

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(401, (await response.ReadJsonAsync()).GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("""{"persona_id": "a", "persona_id": "b"}""")]
    [InlineData("""{"persona_id": "a", "properties": {"max_call_duration": 60, "max_call_duration": 3600}}""")]
    public async Task A_create_with_a_property_name_twice_is_400(string body)
    {
        var response = await Tenant.PostAsync("/conversations", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, (await response.ReadJsonAsync()).GetProperty("status").GetInt32());
        Assert.Equal(0, await ConversationCountAsync());
    }

    [Fact]
    public async Task An_admin_body_with_a_property_name_twice_or_a_number_out_of_range_is_400_naming_the_field()
    {
        using var admin = Factory.CreateAdminClient();

        var twice = await admin.PostAsync("/admin/tenants", new StringContent("""{"id": "x", "id": "y", "name": "X"}""", Encoding.UTF8, "application/json"));
        var huge = await admin.PutAsync($"/admin/tenants/{Tenant.Id}/policy",
            new StringContent("""{"max_concurrent_conversations": 1e12}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Contains("twice", (await twice.ReadJsonAsync()).Str("detail"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.Contains("max_concurrent_conversations", (await huge.ReadJsonAsync()).Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("9223372036854775807|x")]
    [InlineData("3155378976000000000|x")]
    [InlineData("0|")]
    public async Task A_crafted_cursor_is_400_naming_the_cursor(string decoded)
    {
        var cursor = Convert.ToBase64String(Encoding.UTF8.GetBytes(decoded)).TrimEnd('=');

        var response = await Tenant.GetAsync($"/conversations?cursor={Uri.EscapeDataString(cursor)}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty("cursor", out _));
        Assert.Contains("cursor", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_limit_out_of_range_is_400_naming_it()
    {
        var response = await Tenant.GetAsync("/conversations?limit=1e12");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("limit", (await response.ReadJsonAsync()).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_field_of_two_megabytes_is_quoted_in_64_characters_and_answered_small()
    {
        var name = new string('q', 2 * 1024 * 1024 - 100);
        await using var factory = new OrchestratorFactory(settings: new() { ["Conversations:MaxBodyBytes"] = (4 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var tenant = await factory.CreateTenantAsync("acme");

        var response = await tenant.PostAsync("/conversations", new StringContent($$"""{"persona_id": "p", "{{name}}": 1}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var answer = await response.Content.ReadAsStringAsync();
        Assert.True(answer.Length <= 4096, $"{answer.Length} characters");
        Assert.Contains(new string('q', 64) + "…", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_create_body_over_the_limit_is_413_and_a_long_name_is_refused()
    {
        var tooLarge = await Tenant.PostAsJsonAsync("/conversations",
            new { persona_id = "p", conversational_context = new string('c', 1024 * 1024) }, Json.Options);
        var longName = await Tenant.PostAsJsonAsync("/conversations",
            new { persona_id = "p", conversation_name = new string('n', 257) }, Json.Options);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, longName.StatusCode);
        Assert.True((await longName.ReadJsonAsync()).GetProperty("errors").TryGetProperty("conversation_name", out _));
        Assert.Equal(0, await ConversationCountAsync());
    }

    [Fact]
    public async Task A_tenant_over_its_requests_per_second_gets_429_with_Retry_After_and_a_type()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["RateLimits:RequestsPerSecond"] = "3" });
        using var tenant = await factory.CreateTenantAsync("acme");

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 12; i++)
        {
            answers.Add(await tenant.GetAsync("/tenant"));
        }

        var limited = answers.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.EndsWith("/rate-limited", (await limited.ReadJsonAsync()).Str("type"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, answers[0].StatusCode);
    }

    [Fact]
    public async Task An_address_guessing_the_admin_key_gets_429_even_for_the_right_key_once_over_its_budget()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["RateLimits:AuthFailuresPerMinute"] = "3" });
        using var guesser = factory.CreateClient();
        guesser.DefaultRequestHeaders.Add("X-Admin-Key", "guess");

        var guesses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            guesses.Add((await guesser.GetAsync("/admin/tenants")).StatusCode);
        }
        using var right = factory.CreateAdminClient(); // the same address, in the test server
        var afterwards = await right.GetAsync("/admin/tenants");

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized,
            HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], guesses);
        Assert.Equal(HttpStatusCode.TooManyRequests, afterwards.StatusCode);
        Assert.NotNull(afterwards.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_stranger_posting_callbacks_with_bad_tokens_gets_429_after_its_budget()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["RateLimits:WebhookRefusalsPerMinute"] = "2" });
        using var stranger = factory.CreateClient();

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add((await stranger.PostAsync("/webhook?token=guess", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], answers);
    }

    [Fact]
    public async Task More_live_streams_than_the_tenant_may_hold_get_429_and_a_closed_one_frees_its_slot()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Events:MaxStreamsPerTenant"] = "2" });
        using var tenant = await factory.CreateTenantAsync("acme");
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");

        var first = await OpenStreamAsync(tenant, id);
        var second = await OpenStreamAsync(tenant, id);
        var third = await OpenStreamAsync(tenant, id);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.EndsWith("/too-many-streams", (await third.ReadJsonAsync()).Str("type"), StringComparison.Ordinal);

        first.Dispose();
        await Eventually.TrueAsync(async () =>
        {
            using var again = await OpenStreamAsync(tenant, id);
            return again.StatusCode == HttpStatusCode.OK;
        }, "a slot freed by the closed stream");
        second.Dispose();
    }

    [Fact]
    public async Task Operators_watching_a_tenants_calls_take_none_of_its_live_streams()
    {
        await using var factory = new OrchestratorFactory(settings: new() { ["Events:MaxStreamsPerTenant"] = "1" });
        using var tenant = await factory.CreateTenantAsync("acme");
        using var admin = factory.CreateAdminClient();
        var id = (await tenant.CreateConversationAsync()).Str("conversation_id");

        using var operatorStream = await OpenStreamAsync(admin, id, "/admin");
        using var tenantStream = await OpenStreamAsync(tenant, id);
        using var secondOperatorStream = await OpenStreamAsync(admin, id, "/admin");

        Assert.Equal(HttpStatusCode.OK, operatorStream.StatusCode);
        Assert.Equal(HttpStatusCode.OK, tenantStream.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, secondOperatorStream.StatusCode);
        Assert.StartsWith("Operators already hold 1", (await secondOperatorStream.ReadJsonAsync()).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_stream_of_a_failed_conversation_sends_its_timeline_and_closes()
    {
        await Factory.SetFaultsAsync(createErrorRate: 1);
        var id = (await (await Tenant.PostAsJsonAsync("/conversations", Scenario.CreateBody(), Json.Options)).ReadJsonAsync()).Str("conversation_id");
        await Factory.SetFaultsAsync();
        Factory.Time.Advance(TimeSpan.FromSeconds(91)); // the reconciler finds Tavus has none: failed
        await Tenant.WaitForStatusAsync(id, "failed");

        using var response = await OpenStreamAsync(Tenant, id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var body = await response.Content.ReadAsStringAsync(timeout.Token); // returns only once the stream closed

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", body.Trim());
    }

    private static Task<HttpResponseMessage> OpenStreamAsync(HttpClient tenant, string id, string prefix = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"{prefix}/conversations/{id}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return tenant.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    [Fact]
    public async Task Numbers_are_numbers_in_bodies_and_in_the_OpenAPI_document()
    {
        using var admin = Factory.CreateAdminClient();
        var asString = await admin.PutAsync($"/admin/tenants/{Tenant.Id}/policy",
            new StringContent("""{"max_concurrent_conversations": "5"}""", Encoding.UTF8, "application/json"));
        var document = await (await Factory.CreateClient().GetAsync("/openapi/v1.json")).ReadJsonAsync();

        Assert.Equal(HttpStatusCode.BadRequest, asString.StatusCode);
        var bound = document.GetProperty("components").GetProperty("schemas").GetProperty("TimerBoundsInput")
            .GetProperty("properties").GetProperty("default").GetProperty("type");
        Assert.DoesNotContain("string", bound.ToString(), StringComparison.Ordinal);
        var limit = document.GetProperty("paths").GetProperty("/conversations").GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Single(p => p.Str("name") == "limit").GetProperty("schema").GetProperty("type");
        Assert.DoesNotContain("string", limit.ToString(), StringComparison.Ordinal);
    }
}
