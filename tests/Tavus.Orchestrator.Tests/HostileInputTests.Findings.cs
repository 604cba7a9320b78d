using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Tavus.Orchestrator.Tests;

/// <summary>Failures kept by kind, each with its smallest request, and the report that shows them.</summary>
public sealed partial class HostileInputTests
{
    private sealed record Finding(string Operation, string Kind, HostileRequest? Request, string Seed, Answer? Answer, string? ServerError)
    {
        public int Count { get; set; } = 1;
    }

    private void Record(HostileRequest request, string seed, string kind, Answer? answer, int loggedBefore)
    {
        // The exception the request died of, else the first one logged while it ran (say, one a handler caught).
        var logged = _logs.Events.Skip(loggedBefore).Where(e => e.Exception is not null).ToList();
        var exception = (logged.FirstOrDefault(e => e.Properties.TryGetValue("SourceContext", out var source) &&
            source.ToString().Contains("ExceptionHandler", StringComparison.Ordinal)) ?? logged.FirstOrDefault())?.Exception;
        var key = $"{request.Operation.Name} | {kind} | {answer?.Status} | {(exception is null ? "" : Signature(exception))}";
        if (_findings.TryGetValue(key, out var known))
        {
            known.Count++;
            if (request.Size < known.Request!.Size)
            {
                _findings[key] = new Finding(known.Operation, kind, request, seed, answer, known.ServerError) { Count = known.Count };
            }
            return;
        }
        if (_findings.Count < MaxFindings)
        {
            _findings[key] = new Finding(request.Operation.Name, kind, request, seed, answer,
                exception is null ? null : $"{exception.GetType().FullName}: {FirstLine(exception.Message)} (at {Signature(exception)})");
        }
    }

    /// <summary>Where an exception comes from: the first frame in this service's code, else the innermost.</summary>
    private static string Signature(Exception exception)
    {
        var frames = new StackTrace(exception).GetFrames();
        var method = frames.Select(f => f.GetMethod()).FirstOrDefault(m => m?.DeclaringType?.Namespace?.StartsWith("Tavus.", StringComparison.Ordinal) == true)
            ?? frames.FirstOrDefault()?.GetMethod();
        if (method?.DeclaringType is not { } type)
        {
            return exception.GetType().Name;
        }
        // An async method runs in a compiler-made type named <Method>d__N inside the real one.
        var name = type.Name.StartsWith('<') ? $"{type.DeclaringType?.Name}.{type.Name[1..type.Name.IndexOf('>', StringComparison.Ordinal)]}" : $"{type.Name}.{method.Name}";
        return $"{exception.GetType().Name} in {name}";
    }

    private static string FirstLine(string text) => text.Split('\n')[0].TrimEnd('\r');

    private static string Clip(string text, int length = 300) =>
        text.Length <= length ? text : $"{text[..length]}… ({text.Length:N0} chars)";

    private string Report(string seed, int sent)
    {
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"{_findings.Count} distinct failures in {sent:N0} requests (seed {seed}). Each shows the smallest request that failed that way;");
        report.AppendLine("HOSTILE_SEED=<its seed> HOSTILE_ITERATIONS=1 sends it again. «…» stands for a seeded key, id or token.");
        var number = 0;
        foreach (var finding in _findings.Values.OrderBy(f => f.Operation, StringComparer.Ordinal).ThenBy(f => f.Kind, StringComparer.Ordinal))
        {
            report.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"{++number}. {finding.Operation}: {finding.Kind}{(finding.Answer is { } a ? $" ({a.Status})" : "")}, {finding.Count}×");
            if (finding.ServerError is { } error)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"   server: {error}");
            }
            if (finding.Request is not { } request)
            {
                continue;
            }
            report.AppendLine(CultureInfo.InvariantCulture, $"   inputs: {string.Join(" | ", request.Inputs)}");
            report.AppendLine(CultureInfo.InvariantCulture, $"   request: {request.Operation.Method} {Clip(request.Path + request.Query, 200)}   (seed {finding.Seed})");
            foreach (var (name, value) in request.Headers)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"   {name}: {Clip(value, 80)}");
            }
            if (request.Body.Text is not null || request.Body.Bytes is not null)
            {
                var text = request.Body.Text ?? Convert.ToHexString(request.Body.Bytes!);
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"   Content-Type: {request.Body.ContentType ?? "none"}; body ({request.Body.Length:N0} {(request.Body.Text is null ? "bytes" : "chars")}): {Clip(text)}");
            }
            if (finding.Answer is { } answer)
            {
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"   answer: {answer.Status} {answer.MediaType ?? "no Content-Type"} in {answer.Elapsed.TotalMilliseconds:N0} ms, {answer.Body.Length:N0} bytes: {Clip(Encoding.UTF8.GetString(answer.Body))}");
            }
        }
        return report.ToString();
    }
}
