using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Tests;

/// <summary>Live streams on one instance: pushed on commit, never polled, resumable, kept alive.</summary>
public sealed class LiveStreamTests : IAsyncLifetime
{
    private readonly TimelineReads _reads = new();
    private readonly HeldContexts _held = new();
    private readonly OrchestratorFactory _factory = new(settings: new()
    {
        // Nothing else reads the timeline while the clock is moved on.
        ["Reconciliation:IntervalSeconds"] = "86400",
    });
    private HttpClient _tenant = null!;

    public async Task InitializeAsync()
    {
        _factory.ConfigureServices = services =>
        {
            services.ConfigureDbContext<OrchestratorDbContext>((_, options) => options.AddInterceptors(_reads));
            _held.Track(services);
        };
        _tenant = await _factory.CreateTenantAsync("acme");
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private async Task<(string Id, HttpClient Webhook, string Token)> ConversationAsync()
    {
        var id = (await _tenant.CreateConversationAsync()).Str("conversation_id");
        return (id, _factory.CreateClient(), await _factory.CallbackTokenAsync(id));
    }

    /// <summary>Moves the clock on until the stream sends its next frame (the stream's timer may start after a move).</summary>
    private async Task<SseFrame?> NextAsClockRunsAsync(SseReader stream, TimeSpan step)
    {
        var next = stream.NextAsync();
        for (var i = 0; i < 200 && !next.IsCompleted; i++)
        {
            _factory.Time.Advance(step);
            await Task.WhenAny(next, Task.Delay(50));
        }
        return await next;
    }

    [SqliteFact]
    public async Task A_quiet_stream_reads_nothing_sends_heartbeats_and_wakes_on_the_commit()
    {
        var (id, webhook, token) = await ConversationAsync();
        using var stream = await SseReader.OpenAsync(_tenant, $"/conversations/{id}/events");
        var readsAtOpen = _reads.Count;
        var opened = _factory.Time.GetUtcNow();
        Assert.True(readsAtOpen >= 1);

        // Events:HeartbeatSeconds (15) of silence: a comment, and no read of the timeline (the
        // simulator's replica joins on the way: pushed too).
        var frames = new List<SseFrame>();
        while (frames.Count(f => f.Comment is not null) < 3)
        {
            frames.Add(await NextAsClockRunsAsync(stream, TimeSpan.FromSeconds(1)) ?? throw new InvalidOperationException("The stream closed."));
        }
        Assert.Equal(["replica_joined"], frames.Where(f => f.Event is not null).Select(f => f.Event));
        Assert.True(_factory.Time.GetUtcNow() - opened >= TimeSpan.FromSeconds(30), "a heartbeat every 15 s, not more often");
        Assert.Equal(readsAtOpen, _reads.Count);

        Assert.Equal(HttpStatusCode.OK, (await webhook.PostFixtureAsync("shutdown_participant_left_timeout.json", id, token)).StatusCode);
        var ended = await stream.NextAsync();

        Assert.Equal("ended", ended?.Event);
        // Woken by the writer's commit, with the event in hand: no read.
        Assert.Equal(readsAtOpen, _reads.Count);
        var endedId = await _factory.QueryAsync(db => db.ConversationEvents.Where(e => e.Kind == EventKind.Ended).Select(e => e.Id).SingleAsync());
        Assert.Equal(endedId.ToString(System.Globalization.CultureInfo.InvariantCulture), ended!.Id);
    }

    [Fact]
    public async Task Last_Event_ID_resumes_with_no_duplicate_and_no_gap_even_out_of_order()
    {
        var (id, webhook, token) = await ConversationAsync();
        // The end arrives first (a lower id), the join after it (an earlier occurred_at): the
        // timeline sends the join first.
        await webhook.PostFixtureAsync("shutdown_participant_left_timeout.json", id, token);
        await webhook.PostFixtureAsync("replica_joined.json", id, token);

        string? position;
        using (var first = await SseReader.OpenAsync(_tenant, $"/conversations/{id}/events"))
        {
            var joined = await first.NextAsync();
            Assert.Equal("replica_joined", joined?.Event);
            position = joined!.Id;
        } // the client drops after one event

        using var second = await SseReader.OpenAsync(_tenant, $"/conversations/{id}/events", position);
        var ended = await second.NextAsync();
        Assert.Equal("ended", ended?.Event);
        await webhook.PostFixtureAsync("transcription_ready.json", id, token);
        var rest = await second.EventsToEndAsync();

        Assert.Equal(["transcription_ready"], rest.Select(f => f.Event));
        // From the last position, nothing again.
        using var third = await SseReader.OpenAsync(_tenant, $"/conversations/{id}/events", rest[^1].Id);
        Assert.Empty(await third.EventsToEndAsync());
    }

    [Fact]
    public async Task A_Last_Event_ID_the_service_never_sent_is_400()
    {
        var (id, _, _) = await ConversationAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/conversations/{id}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.Add("Last-Event-ID", "1e300");

        using var response = await _tenant.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Last-Event-ID", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_streams_hold_no_database_context_while_they_wait()
    {
        var (id, _, _) = await ConversationAsync();
        var streams = new List<SseReader>();
        for (var i = 0; i < 20; i++)
        {
            // Open once the headers came: the timeline was read by then.
            streams.Add(await SseReader.OpenAsync(_tenant, $"/conversations/{id}/events"));
        }

        // Background passes take a context for a moment; the 20 streams keep none.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_held.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(0, _held.Count);
        streams.ForEach(s => s.Dispose());
    }

    /// <summary>
    /// How many scopes hold a DbContext now: each resolution of the context from a scope counts
    /// until the scope ends (a request's scope ends with its answer, so a stream's lasts as long as it).
    /// </summary>
    private sealed class HeldContexts
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Track(IServiceCollection services)
        {
            var registered = services.Last(d => d.ServiceType == typeof(OrchestratorDbContext));
            services.Remove(registered);
            services.AddScoped(provider =>
            {
                provider.GetRequiredService<Hold>();
                return (OrchestratorDbContext)registered.ImplementationFactory!(provider);
            });
            services.AddScoped(_ => new Hold(this));
        }

        internal sealed class Hold : IDisposable
        {
            private readonly HeldContexts _owner;

            public Hold(HeldContexts owner)
            {
                _owner = owner;
                Interlocked.Increment(ref owner._count);
            }

            public void Dispose() => Interlocked.Decrement(ref _owner._count);
        }
    }

    /// <summary>Counts the reads of the timeline table that EF runs for this host.</summary>
    private sealed class TimelineReads : DbCommandInterceptor
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Counted(command);
            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            Counted(command);
            return base.ReaderExecuting(command, eventData, result);
        }

        private void Counted(DbCommand command)
        {
            if (command.CommandText.Contains("FROM \"ConversationEvents\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _count);
            }
        }
    }
}
