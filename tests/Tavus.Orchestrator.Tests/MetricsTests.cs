using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Tavus.Orchestrator.Tests;

/// <summary>The meter Tavus.Orchestrator: what a callback records, and /metrics in Prometheus' text format.</summary>
public sealed class MetricsTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    private MetricCollector<T> Collect<T>(string instrument) where T : struct =>
        new(Factory.Services.GetRequiredService<IMeterFactory>(), "Tavus.Orchestrator", instrument);

    [Fact]
    public async Task A_callback_counts_by_event_type_and_outcome_and_an_end_by_tenant_and_reason()
    {
        using var callbacks = Collect<long>("tavus.orchestrator.callbacks.received");
        using var ends = Collect<long>("tavus.orchestrator.conversations.ended");
        using var commits = Collect<double>("tavus.orchestrator.event_writer.commit.duration");
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);
        using var tavus = Factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await tavus.PostFixtureAsync("shutdown_participant_left_timeout.json", id, token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tavus.PostFixtureAsync("shutdown_participant_left_timeout.json", id, token)).StatusCode);

        var recorded = callbacks.GetMeasurementSnapshot().Where(m => m.Tags["event_type"] as string == "system.shutdown").ToList();
        Assert.Contains(recorded, m => m.Value == 1 && m.Tags["outcome"] as string == "recorded");
        Assert.Contains(recorded, m => m.Value == 1 && m.Tags["outcome"] as string == "duplicate");
        var end = Assert.Single(ends.GetMeasurementSnapshot(), m => m.Tags["tenant_id"] as string == Tenant.Id);
        Assert.Equal("participant_left_timeout", end.Tags["end_reason"]);
        Assert.NotEmpty(commits.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_callback_with_a_wrong_token_counts_as_unauthorized()
    {
        using var callbacks = Collect<long>("tavus.orchestrator.callbacks.received");
        using var tavus = Factory.CreateClient();

        await tavus.PostFixtureAsync("replica_joined.json", "c0000", "not-a-token");

        Assert.Contains(callbacks.GetMeasurementSnapshot(), m => m.Tags["outcome"] as string == "unauthorized" && m.Tags["event_type"] as string == "unknown");
    }

    [Fact]
    public async Task Metrics_serves_the_meters_instruments_in_Prometheus_text()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        using var tavus = Factory.CreateClient();
        await tavus.PostFixtureAsync("replica_joined.json", id, await Factory.CallbackTokenAsync(id));

        var response = await tavus.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("tavus_orchestrator_callbacks_received_total{", text);
        Assert.Contains("tavus_orchestrator_event_writer_commit_duration_seconds_bucket{", text);
        Assert.Contains("tavus_orchestrator_event_writer_queue_depth", text);
        // The runtime's own, under the names every .NET dashboard reads.
        Assert.Contains("dotnet_gc_heap_total_allocated_bytes_total", text);
        Assert.Contains("dotnet_process_cpu_time_seconds_total{", text);
        Assert.Contains($"tavus_orchestrator_conversations_live{{otel_scope_name=\"Tavus.Orchestrator\",tenant_id=\"{Tenant.Id}\"}} 1", text.Replace("otel_scope_version=\"\",", "", StringComparison.Ordinal));
        // ASP.NET Core's own request metrics, less the route-match count the callback path would pay for.
        Assert.Contains("http_server_request_duration_seconds_bucket{", text);
        Assert.DoesNotContain("aspnetcore_routing_match_attempts", text);
    }
}
