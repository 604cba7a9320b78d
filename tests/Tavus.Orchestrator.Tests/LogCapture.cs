using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// A Serilog sink a test registers in the host's services (<c>ReadFrom.Services</c> picks it up):
/// every event the host logs, at whatever level the test's settings let through.
/// </summary>
public sealed class LogCapture : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyCollection<LogEvent> Events => _events;

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    /// <summary>Every event rendered with all its properties and exception, as any sink could write it.</summary>
    public string Text() => string.Join('\n', _events.Select(Render));

    private static string Render(LogEvent logEvent)
    {
        using var writer = new StringWriter();
        logEvent.RenderMessage(writer);
        foreach (var (name, value) in logEvent.Properties)
        {
            writer.Write($" {name}=");
            value.Render(writer);
        }
        writer.Write(logEvent.Exception);
        return writer.ToString();
    }
}
