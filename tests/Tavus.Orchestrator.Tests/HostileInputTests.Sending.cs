using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Tavus.Orchestrator.Tests;

/// <summary>Sending a generated request with the seeded values put in, and counting its answer.</summary>
public sealed partial class HostileInputTests
{
    private string Resolve(string text)
    {
        foreach (var (standIn, value) in _real)
        {
            text = text.Replace(standIn, value, StringComparison.Ordinal);
        }
        return text;
    }

    private async Task SendAsync(HostileRequest request, string requestSeed)
    {
        var op = request.Operation;
        HttpRequestMessage message;
        try
        {
            message = new HttpRequestMessage(new HttpMethod(op.Method), Resolve(request.Path + request.Query));
        }
        catch (UriFormatException)
        {
            // A URI .NET will not build is not one a client of this service can send.
            Count(op.Name, 0);
            return;
        }
        using var disposeMessage = message;
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, Resolve(value));
        }
        if (request.Body.Text is not null || request.Body.Bytes is not null)
        {
            message.Content = new ByteArrayContent(request.Body.Bytes ?? Encoding.UTF8.GetBytes(Resolve(request.Body.Text!)));
            if (request.Body.ContentType is { } contentType)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        using var timeout = new CancellationTokenSource(AnswerBound);
        var logged = _logs.Events.Count;
        var clock = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Record(request, requestSeed, "no answer within the bound", null, logged);
            return;
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("null characters", StringComparison.Ordinal))
        {
            // The test server refuses a %00 in the path before the app sees it, as Kestrel does (400).
            Count(op.Name, 0);
            return;
        }
        catch (Exception ex)
        {
            Record(request, requestSeed, $"the request broke off ({ex.GetType().Name}: {FirstLine(ex.Message)})", null, logged);
            return;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            Count(op.Name, status);
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (status == 200 && mediaType == "text/event-stream")
            {
                return; // A live stream stays open: its headers are the answer.
            }
            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            }
            catch (Exception ex)
            {
                Record(request, requestSeed, timeout.IsCancellationRequested ? "no complete answer within the bound" : $"the answer broke off ({ex.GetType().Name})",
                    new Answer(status, mediaType, [], clock.Elapsed), logged);
                return;
            }
            var answer = new Answer(status, mediaType, body, clock.Elapsed);
            foreach (var problem in Problems(request, answer))
            {
                Record(request, requestSeed, problem, answer, logged);
            }
            if (op.Name == "POST /admin/tenants/{id}/keys" && status == 200)
            {
                KeepRotatedKey(request, answer);
            }
        }
    }

    private void KeepRotatedKey(HostileRequest request, Answer answer)
    {
        var key = JsonDocument.Parse(answer.Body).RootElement.Str("api_key");
        if (request.Path.Contains(Real.OtherTenantId, StringComparison.Ordinal))
        {
            _real[Real.OtherTenantKey] = key;
        }
        else if (request.Path.Contains(Real.TenantId, StringComparison.Ordinal))
        {
            _real[Real.TenantKey] = key;
        }
    }

    private void Count(string operation, int status)
    {
        var statuses = _statuses.TryGetValue(operation, out var s) ? s : _statuses[operation] = [];
        statuses[status] = statuses.GetValueOrDefault(status) + 1;
    }
}
