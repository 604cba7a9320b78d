using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Tavus.Orchestrator.Notifications;

public enum AttemptOutcome
{
    Delivered,
    Failed,
    Gone,
    TimedOut,
    Refused,
}

/// <summary>What one attempt got: a status code, or the error that stopped it.</summary>
public sealed record AttemptResult(AttemptOutcome Outcome, int? StatusCode, string? Error, TimeSpan Duration);

/// <summary>
/// The typed client that posts one attempt: no retries of its own (the schedule is the retry), no
/// redirects, no cookies, connections only where <see cref="AddressGuard"/> allows
/// (configured in <see cref="NotificationsApi.AddNotifications"/>).
/// </summary>
public sealed class NotificationSender(HttpClient http, TimeProvider time)
{
    public async Task<AttemptResult> SendAsync(Uri url, string messageId, long timestamp, string signature, string body, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", signature);
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Only the status matters: the answer's body is never read.
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var code = (int)response.StatusCode;
            var outcome = code is >= 200 and < 300 ? AttemptOutcome.Delivered : code == 410 ? AttemptOutcome.Gone : AttemptOutcome.Failed;
            return new AttemptResult(outcome, code, null, Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AttemptResult(AttemptOutcome.TimedOut, null, $"No answer within {timeout.TotalSeconds:0} s.", Stopwatch.GetElapsedTime(started));
        }
        catch (HttpRequestException ex)
        {
            var refused = ex.InnerException as RefusedAddressException ?? ex as Exception;
            var outcome = ex.InnerException is RefusedAddressException ? AttemptOutcome.Refused : AttemptOutcome.Failed;
            var error = refused.Message.Length > 400 ? refused.Message[..400] : refused.Message;
            return new AttemptResult(outcome, null, error, Stopwatch.GetElapsedTime(started));
        }
    }
}

/// <summary>
/// The hook for metrics (the telemetry registers its own): every attempt's outcome, and after each
/// dispatcher pass when the oldest message still waiting was created. The default does nothing.
/// </summary>
public interface INotificationObserver
{
    void AttemptFinished(AttemptOutcome outcome, TimeSpan duration);

    /// <summary>When the oldest message neither delivered nor failed was created; null when none waits.</summary>
    void OldestUndelivered(DateTime? createdAt);
}

internal sealed class NoNotificationObserver : INotificationObserver
{
    public void AttemptFinished(AttemptOutcome outcome, TimeSpan duration)
    {
    }

    public void OldestUndelivered(DateTime? createdAt)
    {
    }
}
