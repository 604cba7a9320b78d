using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Notifications;

/// <summary>One attempt: sign, send, record it and schedule the next.</summary>
public sealed partial class NotificationDispatcher
{
    /// <summary>An endpoint whose every attempt failed this long is disabled (as Svix does).</summary>
    public static readonly TimeSpan DisableAfterFailing = TimeSpan.FromDays(5);

    private async Task AttemptAsync(string id, string token, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
            var message = await db.NotificationMessages.FirstAsync(m => m.Id == id, cancellationToken);
            var endpoint = await db.NotificationEndpoints.FirstOrDefaultAsync(e => e.TenantId == message.TenantId, cancellationToken);
            if (endpoint is not { Enabled: true })
            {
                await FinishWithoutAttemptAsync(db, id, token, cancellationToken);
                return;
            }
            message.Body ??= await RenderAsync(db, message, cancellationToken);
            var now = time.GetUtcNow();
            var signature = WebhookSigner.Sign(secrets.SigningSecrets(endpoint, now.UtcDateTime), id, now.ToUnixTimeSeconds(), message.Body);
            var sender = scope.ServiceProvider.GetRequiredService<NotificationSender>();
            var result = await sender.SendAsync(new Uri(endpoint.Url), id, now.ToUnixTimeSeconds(), signature, message.Body,
                options.Value.AttemptTimeout, cancellationToken);
            observer.AttemptFinished(result.Outcome, result.Duration);
            Log.Attempted(logger, id, message.EventType, message.TenantId, result.Outcome, result.StatusCode, (int)result.Duration.TotalMilliseconds);
            await RecordAsync(db, message, endpoint, token, now.UtcDateTime, result, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.AttemptCrashed(logger, ex, id);
        }
    }

    /// <summary>The body: the type, when it happened, and the conversation as <c>GET /conversations/{id}</c> shows it, without its events.</summary>
    private static async Task<string> RenderAsync(OrchestratorDbContext db, NotificationMessage message, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.AsNoTracking().FirstAsync(c => c.Id == message.ConversationId, cancellationToken);
        var events = await ConversationsApi.Timeline(db, conversation.Id, cancellationToken);
        var data = JsonSerializer.SerializeToNode(ConversationDetailsResponse.From(conversation, events), JsonFormats.Http)!.AsObject();
        data.Remove("events");
        var body = new JsonObject
        {
            ["type"] = message.EventType,
            ["timestamp"] = JsonSerializer.SerializeToNode(message.OccurredAt, JsonFormats.Http),
            ["data"] = data,
        };
        return body.ToJsonString(JsonFormats.Http);
    }

    /// <summary>
    /// The attempt, the message's next state and the endpoint's health, in one transaction, only if
    /// this instance still holds the lease.
    /// </summary>
    private async Task RecordAsync(OrchestratorDbContext db, NotificationMessage message, NotificationEndpoint endpoint, string token,
        DateTime attemptedAt, AttemptResult result, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var schedule = options.Value.Schedule;
        var delivered = result.Outcome == AttemptOutcome.Delivered;
        var retry = !delivered && result.Outcome != AttemptOutcome.Gone && message.ScheduleStep < schedule.Count;
        DateTime? next = retry ? now + Jitter(schedule[message.ScheduleStep]) : null;
        var status = delivered ? MessageStatus.Delivered : retry ? MessageStatus.Pending : MessageStatus.Failed;
        var step = retry ? message.ScheduleStep + 1 : message.ScheduleStep;
        var body = message.Body;

        using var turn = await dialect.EnterWriteAsync(CancellationToken.None);
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var updated = await db.NotificationMessages.Where(m => m.Id == message.Id && m.ClaimToken == token)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, status)
                .SetProperty(m => m.AttemptCount, m => m.AttemptCount + 1)
                .SetProperty(m => m.ScheduleStep, step)
                .SetProperty(m => m.NextAttemptAt, next)
                .SetProperty(m => m.DeliveredAt, m => delivered ? now : m.DeliveredAt)
                .SetProperty(m => m.Body, body)
                .SetProperty(m => m.ClaimedUntil, (DateTime?)null)
                .SetProperty(m => m.ClaimToken, (string?)null), CancellationToken.None);
        if (updated != 1)
        {
            Log.LeaseLost(logger, message.Id);
            return;
        }
        db.Entry(message).State = EntityState.Detached;
        db.NotificationAttempts.Add(new NotificationAttempt
        {
            MessageId = message.Id,
            Number = message.AttemptCount + 1,
            AttemptedAt = attemptedAt,
            StatusCode = result.StatusCode,
            Error = result.Error,
            DurationMs = (int)Math.Min(int.MaxValue, result.Duration.TotalMilliseconds),
        });
        var disabled = delivered ? null
            : result.Outcome == AttemptOutcome.Gone ? "The endpoint answered 410 Gone."
            : endpoint.FailingSince is { } since && now - since >= DisableAfterFailing ? "Every attempt failed for 5 days."
            : null;
        if (delivered)
        {
            endpoint.FailingSince = null;
        }
        else
        {
            endpoint.FailingSince ??= attemptedAt;
        }
        if (disabled is not null)
        {
            endpoint.Enabled = false;
            endpoint.DisabledReason = disabled;
            endpoint.UpdatedAt = now;
            Log.EndpointDisabled(logger, endpoint.TenantId, disabled);
        }
        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>The endpoint was deleted or disabled: the message fails (a <c>recover</c> sends it once there is one again).</summary>
    private async Task FinishWithoutAttemptAsync(OrchestratorDbContext db, string id, string token, CancellationToken cancellationToken)
    {
        using (await dialect.EnterWriteAsync(cancellationToken))
        {
            await db.NotificationMessages.Where(m => m.Id == id && m.ClaimToken == token)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.Status, MessageStatus.Failed)
                    .SetProperty(m => m.NextAttemptAt, (DateTime?)null)
                    .SetProperty(m => m.ClaimedUntil, (DateTime?)null)
                    .SetProperty(m => m.ClaimToken, (string?)null), cancellationToken);
        }
    }

    /// <summary>±20 %, so that messages that failed together are not retried together.</summary>
    private static TimeSpan Jitter(TimeSpan wait) => wait * (0.8 + Random.Shared.NextDouble() * 0.4);
}
