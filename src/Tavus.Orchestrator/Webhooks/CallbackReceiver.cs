using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Telemetry;

namespace Tavus.Orchestrator.Webhooks;

/// <summary>
/// POST /webhook: a Tavus callback checked against its conversation's token, parsed, and answered
/// once the event writer has committed it.
/// </summary>
public sealed class CallbackReceiver(
    CallbackTargets targets,
    Refusals refusals,
    EventWriter writer,
    TimeProvider time,
    IOptions<WebhooksOptions> options,
    OrchestratorMetrics metrics)
{
    public async Task<Results<WebhookAckResult, ProblemHttpResult>> ReceiveAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        // Who may send is settled before a byte of the body is read: a stranger holds no buffer,
        // and one who keeps guessing is slowed down before any lookup.
        if (!refusals.MayTry(context, RefusalKind.Webhook, out var retryAfter))
        {
            return RateLimits.TooMany(context.Response, retryAfter, "Too many refused callbacks from this address; retry later.");
        }
        var tokenHash = CallbackTokens.HashFromQuery(context.Request.QueryString.Value);
        var target = tokenHash is null ? null : await targets.FindAsync(tokenHash, cancellationToken);
        if (target is null)
        {
            refusals.Count(context, RefusalKind.Webhook);
            metrics.CallbackReceived(OrchestratorMetrics.UnreadEventType, "unauthorized");
            return Unauthorized();
        }

        using var body = await RequestBody.ReadAsync(context.Request, options.Value.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            metrics.CallbackReceived(OrchestratorMetrics.UnreadEventType, "too_large");
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Callback too large",
                detail: $"The body is over Webhooks:MaxBodyBytes ({options.Value.MaxBodyBytes} bytes).");
        }

        // The document reads the body in place and lives as long as this request: no copies.
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Memory, DocumentOptions);
        }
        catch (JsonException)
        {
            metrics.CallbackReceived(OrchestratorMetrics.UnreadEventType, "invalid");
            return BadCallback("The body is not JSON, or has a property name twice.");
        }
        using var _ = document;
        var callback = ParsedCallback.Parse(document.RootElement, body.Memory.Span, out var error);
        if (callback is null)
        {
            metrics.CallbackReceived(OrchestratorMetrics.UnreadEventType, "invalid");
            return BadCallback(error!);
        }
        context.SetConversationId(callback.ConversationId);
        context.SetEventType(callback.EventType);
        if (target.TavusId is not null && target.TavusId != callback.ConversationId)
        {
            refusals.Count(context, RefusalKind.Webhook);
            metrics.CallbackReceived(callback.EventType, "unauthorized");
            return Unauthorized();
        }

        var @event = callback.ToEvent(target.Key, time.GetUtcNow().UtcDateTime);
        // A conversation without Tavus' id yet: the token proves Tavus created it (its create
        // answer was lost or is still on its way), so it takes the id this callback carries.
        var write = new EventWrite(@event, Lifecycle.EffectOf(@event.Kind, callback.Properties),
            AdoptTavusId: target.TavusId is null ? callback.ConversationId : null, PublicId: callback.ConversationId, TenantId: target.TenantId);
        if (!writer.TryWrite(write, out var committed))
        {
            metrics.CallbackReceived(callback.EventType, "busy");
            context.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Busy",
                detail: "Too many callbacks are waiting to be stored; nothing was stored. Retry shortly.");
        }
        // The writer counts it, with the others of its commit.
        return await committed == RecordOutcome.Recorded ? WebhookAckResult.Recorded : WebhookAckResult.Duplicate;
    }

    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false };

    private static ProblemHttpResult BadCallback(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a Tavus callback", detail: detail);

    private static ProblemHttpResult Unauthorized() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            detail: "The callback token is missing, wrong, or not the one of this conversation.");
}
