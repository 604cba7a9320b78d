using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Telemetry;

namespace Tavus.Orchestrator.Webhooks;

public static class WebhookApi
{
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhooksOptions>().BindConfiguration(WebhooksOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IPostConfigureOptions<WebhooksOptions>, CallbackAddressRules>();
        builder.Services.AddSingleton<IValidateOptions<WebhooksOptions>, CallbackAddressRules>();
        builder.Services.AddSingleton<CallbackTargets>();
        return builder;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhook", Receive)
            .WithName("ReceiveCallback")
            .WithTags("Tavus callbacks")
            .AllowAnonymous()
            .WithMetadata(ChecksItsOwnCallers.Instance)
            // A stored callback is logged in its commit's line by the event writer.
            .WithMetadata(SuccessLoggedElsewhere.Instance)
            .WithSummary("Receives a Tavus callback for a conversation's callback_url.")
            .WithDescription("Authenticated by the token the orchestrator put into that conversation's callback_url. " +
                "Answers 200 only after the event is committed; a repeated delivery answers status 'duplicate'.")
            .Accepts<TavusCallback>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<Results<WebhookAckResult, ProblemHttpResult>> Receive(
        HttpContext context,
        string? token,
        CallbackTargets targets,
        Refusals refusals,
        EventWriter writer,
        TimeProvider time,
        IOptions<WebhooksOptions> options,
        OrchestratorMetrics metrics)
    {
        var cancellationToken = context.RequestAborted;
        // Who may send is settled before a byte of the body is read: a stranger holds no buffer,
        // and one who keeps guessing is slowed down before any lookup.
        if (!refusals.MayTry(context, RefusalKind.Webhook, out var retryAfter))
        {
            return RateLimits.TooMany(context.Response, retryAfter, "Too many refused callbacks from this address; retry later.");
        }
        var target = string.IsNullOrEmpty(token) ? null : await targets.FindAsync(token, cancellationToken);
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
        var outcome = await committed;
        metrics.CallbackReceived(callback.EventType, outcome == RecordOutcome.Recorded ? "recorded" : "duplicate");
        return outcome == RecordOutcome.Recorded ? WebhookAckResult.Recorded : WebhookAckResult.Duplicate;
    }

    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false };

    private static ProblemHttpResult BadCallback(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a Tavus callback", detail: detail);

    private static ProblemHttpResult Unauthorized() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            detail: "The callback token is missing, wrong, or not the one of this conversation.");
}
