using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;

namespace Tavus.Simulator.Tests.Infrastructure;

internal sealed record CapturedRequest(HttpMethod Method, Uri Uri, string? MediaType, JsonElement Body)
{
    public string EventType => Body.GetProperty("event_type").GetString()!;
}

/// <summary>Stands in for the callback receiver: records every request and answers as told (200 by default).</summary>
internal sealed class CapturingHandler : HttpMessageHandler
{
    private readonly ConcurrentQueue<CapturedRequest> _requests = new();

    /// <summary>Answers each request; may throw to simulate a network failure.</summary>
    public Func<HttpRequestMessage, HttpResponseMessage> Responder { get; set; } = _ => new HttpResponseMessage(HttpStatusCode.OK);

    public IReadOnlyList<CapturedRequest> Requests => [.. _requests];

    public Task<IReadOnlyList<CapturedRequest>> WaitForAsync(int count) =>
        Eventually.WaitAsync(() => Task.FromResult(Requests), r => r.Count >= count, $"{count} callback(s)");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var text = request.Content is null ? "null" : await request.Content.ReadAsStringAsync(cancellationToken);
        using var document = JsonDocument.Parse(text);
        _requests.Enqueue(new CapturedRequest(
            request.Method, request.RequestUri!, request.Content?.Headers.ContentType?.MediaType, document.RootElement.Clone()));
        return Responder(request);
    }
}
