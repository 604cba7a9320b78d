using System.Net.Http.Headers;

namespace Tavus.Orchestrator.Tests;

/// <summary>One frame of a Server-Sent Events stream: an event (name, id, data) or a comment.</summary>
public sealed record SseFrame(string? Event, string? Id, string? Data, string? Comment);

/// <summary>A live event stream read frame by frame, as a browser's EventSource would.</summary>
public sealed class SseReader : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<SseReader> OpenAsync(HttpClient client, string path, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new SseReader(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next frame; null when the server closed the stream.</summary>
    public async Task<SseFrame?> NextAsync(int seconds = 15)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        string? name = null, id = null, data = null, comment = null;
        while (await _reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (name is not null || data is not null || comment is not null)
                {
                    return new SseFrame(name, id, data, comment);
                }
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "": comment = value; break;
                case "event": name = value; break;
                case "id": id = value; break;
                case "data": data = value; break;
            }
        }
        return null;
    }

    /// <summary>The events up to the end of the stream, heartbeats skipped.</summary>
    public async Task<List<SseFrame>> EventsToEndAsync(int seconds = 20)
    {
        var frames = new List<SseFrame>();
        while (await NextAsync(seconds) is { } frame)
        {
            if (frame.Event is not null)
            {
                frames.Add(frame);
            }
        }
        return frames;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}
