using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

public sealed class EventStreamTests(OrchestratorFixture fixture) : IntegrationTests(fixture)
{

    private async Task<List<(string Event, JsonElement Data, string? Id)>> ReadStreamAsync(string id, Func<Task> whileOpen)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/conversations/{id}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await Tenant.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var driving = whileOpen();
        var items = new List<(string, JsonElement, string?)>();
        string? eventName = null;
        string? eventId = null;
        JsonElement? data = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line["event: ".Length..];
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                eventId = line["id: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
            else if (line.Length == 0 && data is { } complete)
            {
                // A blank line ends an event, whatever order its fields came in.
                items.Add((eventName!, complete, eventId));
                (eventName, eventId, data) = (null, null, null);
            }
        }
        await driving;
        return items;
    }

    [Fact]
    public async Task The_stream_sends_replica_joined_then_ended_then_the_transcript_and_closes()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");

        var items = await ReadStreamAsync(id, async () =>
        {
            await Task.Delay(100);
            Factory.Time.Advance(TimeSpan.FromSeconds(3));
            await Tenant.WaitForStatusAsync(id, "active");
            await Tenant.PostAsync($"/conversations/{id}/end", null);
        });

        Assert.Equal(["replica_joined", "ended", "transcription_ready"], items.Select(i => i.Event));
        Assert.Equal("end_conversation_endpoint_hit", items[1].Data.GetProperty("properties").Str("shutdown_reason"));
        // Events sent live carry the id the writer got for their row (SQLite: its last rowid).
        foreach (var (kind, item) in new[] { (EventKind.ReplicaJoined, items[0]), (EventKind.Ended, items[1]), (EventKind.TranscriptionReady, items[2]) })
        {
            var stored = await Factory.QueryAsync(db => db.EventsOf(Tenant.Id).Where(e => e.Kind == kind).Select(e => e.Id).SingleAsync());
            Assert.Equal(stored.ToString(CultureInfo.InvariantCulture), item.Id);
        }
    }

    [Fact]
    public async Task A_stream_opened_after_the_end_replays_the_timeline_and_closes()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        await Tenant.PostAsync($"/conversations/{id}/end", null);
        await Tenant.WaitForConversationAsync(id, c => c.GetProperty("transcript").ValueKind == JsonValueKind.Array, "the transcript");

        var items = await ReadStreamAsync(id, () => Task.CompletedTask);

        Assert.Equal(["ended", "transcription_ready"], items.Select(i => i.Event));
    }

    [Fact]
    public async Task Many_subscribers_each_receive_every_event()
    {
        var id = (await Tenant.CreateConversationAsync()).Str("conversation_id");
        // Subscribers that connect before or after the end see the same stream.
        var streams = Enumerable.Range(0, 25).Select(_ => ReadStreamAsync(id, () => Task.CompletedTask)).ToList();
        await Tenant.PostAsync($"/conversations/{id}/end", null);

        var all = await Task.WhenAll(streams);
        Assert.All(all, items => Assert.Equal(["ended", "transcription_ready"], items.Select(i => i.Event)));
    }
}
