using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Tavus.Orchestrator.Tests;

/// <summary>The event writer's commit is a span of its own, linked to the requests it answered.</summary>
public sealed class TracingTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{
    [Fact]
    public async Task A_commit_span_links_the_callback_request_it_completed()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            // The request's span (ASP.NET Core) and ours; a listener is what makes either exist.
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "Tavus.Orchestrator",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        var token = await Factory.CallbackTokenAsync(id);
        var traceId = ActivityTraceId.CreateRandom();
        using var tavus = Factory.CreateClient();
        tavus.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        Assert.Equal(HttpStatusCode.OK, (await tavus.PostFixtureAsync("replica_joined.json", id, token)).StatusCode);

        // Other classes' commits run beside this one: the span that matters links this trace. It
        // ends just after the commit answered the request.
        bool LinksThisTrace(Activity a) => a.Source.Name == "Tavus.Orchestrator" && a.OperationName == "event_writer commit" &&
            a.Links.Any(link => link.Context.TraceId == traceId);
        await Eventually.TrueAsync(() => stopped.Any(LinksThisTrace), "the commit's span stopped");
        var commit = Assert.Single(stopped, LinksThisTrace);
        Assert.NotEqual(traceId, commit.TraceId); // a span of its own, not a child of one request
        Assert.True((int)commit.GetTagItem("tavus.orchestrator.batch.size")! >= 1);
    }
}
