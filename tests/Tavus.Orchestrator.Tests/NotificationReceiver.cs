using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tavus.Orchestrator.Tests;

/// <summary>A tenant's backend: a real Kestrel server on loopback that records every notification it is sent.</summary>
public sealed class NotificationReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private NotificationReceiver(WebApplication app) => _app = app;

    /// <summary>What it got: headers as sent and the raw body, per path.</summary>
    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The status to answer, by path (200 when absent); set per test.</summary>
    public ConcurrentDictionary<string, int> Status { get; } = new();

    /// <summary>Paths whose requests wait until the test lets them go.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Hold { get; } = new();

    public string BaseUrl { get; private set; } = "";

    public string Url(string path) => $"{BaseUrl}{path}";

    public IReadOnlyList<Received> At(string path) => Requests.Where(r => r.Path == path).ToList();

    public static async Task<NotificationReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new NotificationReceiver(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            var path = context.Request.Path.Value!;
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            if (receiver.Hold.TryGetValue(path, out var hold))
            {
                await hold.Task.WaitAsync(context.RequestAborted);
            }
            receiver.Requests.Enqueue(new Received(path, headers, body, DateTime.UtcNow));
            return Results.StatusCode(receiver.Status.GetValueOrDefault(path, 200));
        });
        await app.StartAsync();
        receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var hold in Hold.Values)
        {
            hold.TrySetResult();
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record Received(string Path, Dictionary<string, string> Headers, string Body, DateTime At)
{
    public string Id => Headers["webhook-id"];

    public string Type => System.Text.Json.JsonDocument.Parse(Body).RootElement.GetProperty("type").GetString()!;

    public Microsoft.AspNetCore.Http.IHeaderDictionary HeaderDictionary() =>
        new HeaderDictionary(Headers.ToDictionary(h => h.Key, h => new Microsoft.Extensions.Primitives.StringValues(h.Value)));
}
