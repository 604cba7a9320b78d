using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Tavus.Orchestrator.Tests;

/// <summary>The operator's conversation routes: every tenant's conversations, one by id, its timeline, and an operator's end.</summary>
public sealed class AdminConversationsTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    [Fact]
    public async Task The_operator_lists_every_tenants_conversations_and_filters_by_tenant_and_status()
    {
        using var other = await Factory.CreateTenantAsync("other");
        var mine = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var theirs = (await other.CreateConversationAsync()).Str("conversation_id");
        using var admin = Factory.CreateAdminClient();

        var all = await (await admin.GetAsync("/admin/conversations?limit=100")).ReadJsonAsync();
        var ids = all.GetProperty("data").EnumerateArray().Select(c => c.Str("conversation_id")).ToList();
        Assert.Contains(mine, ids);
        Assert.Contains(theirs, ids);

        var onlyOther = await (await admin.GetAsync($"/admin/conversations?tenant_id={other.Id}")).ReadJsonAsync();
        Assert.Equal([theirs], onlyOther.GetProperty("data").EnumerateArray().Select(c => c.Str("conversation_id")));
        Assert.Equal(other.Id, onlyOther.GetProperty("data")[0].Str("tenant_id"));

        var ended = await (await admin.GetAsync($"/admin/conversations?tenant_id={Tenant.Id}&status=ended")).ReadJsonAsync();
        Assert.Empty(ended.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task The_operator_pages_through_conversations_with_the_cursor()
    {
        for (var i = 0; i < 3; i++)
        {
            await Tenant.CreateConversationAsync();
            Factory.Time.Advance(TimeSpan.FromMilliseconds(10));
        }
        using var admin = Factory.CreateAdminClient();
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await (await admin.GetAsync($"/admin/conversations?tenant_id={Tenant.Id}&limit=2{(cursor is null ? "" : $"&cursor={cursor}")}")).ReadJsonAsync();
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(c => c.Str("conversation_id")));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(3, seen.Distinct().Count());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1000000000000", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("status=running", "status")]
    [InlineData("cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OXxh", "cursor")]
    [InlineData("cursor=%%%", "cursor")]
    [InlineData("tenant_id=Not%20A%20Tenant", "tenant_id")]
    public async Task A_bad_query_is_400_naming_the_field(string query, string field)
    {
        using var admin = Factory.CreateAdminClient();
        var response = await admin.GetAsync($"/admin/conversations?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        // A value the binder refuses (not a number, out of int's range) is named in detail; one it binds, in errors too.
        Assert.Contains(field, problem.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/event-stream")]
    [InlineData("text/html")]
    public async Task A_wrong_or_missing_admin_key_is_401_whatever_the_accept_header(string accept)
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        foreach (var key in new[] { null, "wrong-key" })
        {
            foreach (var path in new[] { "/admin/conversations", $"/admin/conversations/{id}", $"/admin/conversations/{id}/events" })
            {
                using var client = Factory.CreateClient();
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
                if (key is not null)
                {
                    request.Headers.Add("X-Admin-Key", key);
                }
                var response = await client.SendAsync(request);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
        }
        using var tenantAsOperator = Factory.CreateClient();
        tenantAsOperator.DefaultRequestHeaders.Add("X-Admin-Key", "demo-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await tenantAsOperator.PostAsync($"/admin/conversations/{id}/end", null)).StatusCode);
    }

    [Fact]
    public async Task The_operator_reads_any_tenants_conversation_and_its_live_timeline()
    {
        var id = (await Tenant.CreateConversationAsync(new { participant_absent_timeout = 120 })).Str("conversation_id");
        using var admin = Factory.CreateAdminClient();

        var details = await (await admin.GetAsync($"/admin/conversations/{id}")).ReadJsonAsync();
        Assert.Equal(Tenant.Id, details.Str("tenant_id"));
        Assert.Equal(JsonValueKind.Array, details.GetProperty("events").ValueKind);

        using var stream = await SseReader.OpenAsync(admin, $"/admin/conversations/{id}/events");
        Factory.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal("replica_joined", (await NextEventAsync(stream))!.Event);
        Factory.Time.Advance(TimeSpan.FromSeconds(118));
        Assert.Equal("ended", (await NextEventAsync(stream))!.Event);

        var timeline = await (await admin.GetAsync($"/admin/conversations/{id}/events")).ReadJsonAsync();
        Assert.Contains("ended", timeline.EnumerateArray().Select(e => e.Str("kind")));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/conversations/c0000000000")).StatusCode);
    }

    [Fact]
    public async Task An_operators_end_is_recorded_as_asked_by_an_operator_before_the_end()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        using var admin = Factory.CreateAdminClient();

        var end = await admin.PostAsync($"/admin/conversations/{id}/end", null);
        Assert.Equal(HttpStatusCode.Accepted, end.StatusCode);
        Assert.Equal($"/admin/conversations/{id}", end.Headers.Location?.OriginalString);

        var ended = await Tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal("ended_by_request", ended.Str("end_reason"));
        var events = ended.GetProperty("events").EnumerateArray().ToList();
        var asked = events.Single(e => e.Str("kind") == "end_requested");
        Assert.Equal("operator", asked.Str("source"));
        Assert.Equal("operator", asked.GetProperty("properties").Str("requested_by"));
        Assert.True(events.IndexOf(asked) < events.FindIndex(e => e.Str("kind") == "ended"), "the request comes before the end");

        var again = await admin.PostAsync($"/admin/conversations/{id}/end", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(1, await EventCountAsync(e => e.Kind == Conversations.EventKind.EndRequested));
    }

    [Fact]
    public async Task A_tenants_own_end_records_no_operator_request()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        Assert.Equal(HttpStatusCode.Accepted, (await Tenant.PostAsync($"/conversations/{id}/end", null)).StatusCode);
        await Tenant.WaitForStatusAsync(id, "ended");
        Assert.Equal(0, await EventCountAsync(e => e.Kind == Conversations.EventKind.EndRequested));
    }

    private static async Task<SseFrame?> NextEventAsync(SseReader stream)
    {
        while (await stream.NextAsync() is { } frame)
        {
            if (frame.Event is not null)
            {
                return frame;
            }
        }
        return null;
    }
}
