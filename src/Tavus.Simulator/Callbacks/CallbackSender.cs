using System.Net.Http.Headers;
using System.Text.Json;
using Tavus.Simulator.Hosting;

namespace Tavus.Simulator.Callbacks;

/// <summary>A callback ready to go, with the faults rolled for it when it was emitted.</summary>
internal sealed record OutgoingCallback(string EventType, byte[] Body, JsonElement BodyElement, bool Drop, bool Duplicate);

/// <summary>
/// One conversation's callbacks, sent one after another in the order they were emitted, and the
/// log of every attempt. Sending happens on the thread pool so an API request never waits for it.
/// </summary>
internal sealed class DeliveryQueue(CallbackSender sender, string conversationId, Uri callbackUrl)
{
    private readonly Lock _gate = new();
    private readonly List<DeliveryRecord> _log = [];
    private Task _tail = Task.CompletedTask;

    public string ConversationId { get; } = conversationId;

    public Uri CallbackUrl { get; } = callbackUrl;

    public IReadOnlyList<DeliveryRecord> Deliveries
    {
        get
        {
            lock (_gate)
            {
                return [.. _log];
            }
        }
    }

    public void Enqueue(OutgoingCallback callback)
    {
        lock (_gate)
        {
            // Not ExecuteSynchronously: the send starts on the thread pool, never inside the caller's lock.
            _tail = _tail
                .ContinueWith(_ => sender.SendAsync(this, callback), CancellationToken.None, TaskContinuationOptions.DenyChildAttach, TaskScheduler.Default)
                .Unwrap();
        }
    }

    public void Record(DeliveryRecord record)
    {
        lock (_gate)
        {
            _log.Add(record);
        }
    }
}

/// <summary>Posts callbacks once each: Tavus documents no retries, so neither does its stand-in.</summary>
internal sealed partial class CallbackSender(
    IHttpClientFactory httpClientFactory,
    TimeProvider timeProvider,
    IHostApplicationLifetime lifetime,
    ILogger<CallbackSender> logger)
{
    public async Task SendAsync(DeliveryQueue queue, OutgoingCallback callback)
    {
        try
        {
            if (callback.Drop)
            {
                queue.Record(new DeliveryRecord(
                    callback.EventType, Now(), StatusCode: null, Error: "dropped by fault injection", Dropped: true, Duplicate: false, callback.BodyElement));
                Log.Dropped(logger, callback.EventType, queue.ConversationId);
                return;
            }

            await PostAsync(queue, callback, duplicate: false);
            if (callback.Duplicate)
            {
                await PostAsync(queue, callback, duplicate: true);
            }
        }
        catch (Exception ex)
        {
            // The queue chains on this task; a fault here must not stop the conversation's later callbacks.
            Log.NotDelivered(logger, ex, callback.EventType, queue.ConversationId);
        }
    }

    private async Task PostAsync(DeliveryQueue queue, OutgoingCallback callback, bool duplicate)
    {
        var attemptedAt = Now();
        int? statusCode = null;
        string? error = null;
        try
        {
            using var client = httpClientFactory.CreateClient(SimulatorDefaults.CallbackHttpClientName);
            using var content = new ByteArrayContent(callback.Body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync(queue.CallbackUrl, content, lifetime.ApplicationStopping);
            statusCode = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                Log.Delivered(logger, callback.EventType, queue.ConversationId, statusCode.Value);
            }
            else
            {
                Log.Refused(logger, callback.EventType, queue.ConversationId, statusCode.Value);
            }
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
        {
            error = "timed out";
            Log.TimedOut(logger, callback.EventType, queue.ConversationId);
        }
        catch (Exception ex)
        {
            error = ex.Message;
            Log.Failed(logger, ex, callback.EventType, queue.ConversationId);
        }

        queue.Record(new DeliveryRecord(callback.EventType, attemptedAt, statusCode, error, Dropped: false, duplicate, callback.BodyElement));
    }

    private string Now() => SimulatorJson.FormatTimestamp(timeProvider.GetUtcNow());

    // Event ids 1200–1299: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Dropped callback {EventType} of conversation {ConversationId} (fault injection)")]
        public static partial void Dropped(ILogger logger, string eventType, string conversationId);

        [LoggerMessage(EventId = 1201, Level = LogLevel.Error, Message = "Could not deliver callback {EventType} of conversation {ConversationId}")]
        public static partial void NotDelivered(ILogger logger, Exception exception, string eventType, string conversationId);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Delivered callback {EventType} of conversation {ConversationId}: {StatusCode}")]
        public static partial void Delivered(ILogger logger, string eventType, string conversationId, int statusCode);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Callback {EventType} of conversation {ConversationId} was answered {StatusCode}; not retried")]
        public static partial void Refused(ILogger logger, string eventType, string conversationId, int statusCode);

        [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "Callback {EventType} of conversation {ConversationId} timed out; not retried")]
        public static partial void TimedOut(ILogger logger, string eventType, string conversationId);

        [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "Callback {EventType} of conversation {ConversationId} failed; not retried")]
        public static partial void Failed(ILogger logger, Exception exception, string eventType, string conversationId);
    }
}
