using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// <c>POST /conversations</c>: the bound, checked request (<see cref="CreateConversationRequest"/>)
/// goes to <see cref="ConversationCreator"/>; each way it can end is one answer here.
/// </summary>
public static class ConversationCreation
{
    public static async Task<Results<Created<ConversationResponse>, Accepted<ConversationResponse>, ContentHttpResult, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateConversationRequest request,
        [FromHeader(Name = Idempotency.Header)] string? idempotencyKey,
        HttpContext context,
        ConversationCreator creator,
        TimeProvider time)
    {
        idempotencyKey = string.IsNullOrEmpty(idempotencyKey) ? null : idempotencyKey;
        if (idempotencyKey is not null && (idempotencyKey.Length > 200 || !TextRules.IsStorable(idempotencyKey)))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { [Idempotency.Header] = ["Idempotency-Key is at most 200 characters, without control characters."] },
                title: "The request has invalid fields.");
        }
        var outcome = await creator.CreateAsync(context.AuthenticatedTenant(), request, idempotencyKey, context.RequestAborted);
        switch (outcome)
        {
            case CreateOutcome.Created created:
                context.SetConversationId(created.Conversation.ConversationId);
                return TypedResults.Created($"/conversations/{created.Conversation.ConversationId}", created.Conversation);
            case CreateOutcome.OutsidePolicy outside:
                return TypedResults.Problem(new HttpValidationProblemDetails(outside.Errors)
                {
                    Status = StatusCodes.Status422UnprocessableEntity,
                    Title = "The request is outside the tenant's policy.",
                    Detail = "Send values within the bounds listed in GET /tenant, or leave them out to take the defaults.",
                });
            case CreateOutcome.KeyUsed used:
                return KeyUsed(context, used.Claim);
            case CreateOutcome.AtCap cap:
                return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Concurrency cap reached",
                    detail: cap.Detail, type: Problems.ConcurrencyCap);
            case CreateOutcome.QuotaExhausted quota:
                context.Response.Headers.RetryAfter = Math.Ceiling(Math.Max(1, (quota.RenewsAt - time.GetUtcNow().UtcDateTime).TotalSeconds))
                    .ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Monthly quota exhausted",
                    detail: quota.Detail, type: Problems.QuotaExhausted,
                    extensions: new Dictionary<string, object?> { ["renews_at"] = quota.RenewsAt });
            case CreateOutcome.MayHaveReachedTavus unknown:
                return TypedResults.Problem(statusCode: unknown.Error.StatusCode, title: unknown.Error.Title,
                    detail: unknown.Error.Message + " Tavus may still have created it: it stays pending until Tavus is asked (within a " +
                        "reconciliation pass); GET /conversations/{conversation_id}, or retry with the same Idempotency-Key.",
                    extensions: new Dictionary<string, object?> { ["conversation_id"] = unknown.ConversationKey });
            case CreateOutcome.TavusRefused refused:
                return refused.Error.ToProblem();
            default:
                throw new InvalidOperationException($"Unhandled create outcome {outcome.GetType().Name}.");
        }
    }

    private static Results<Created<ConversationResponse>, Accepted<ConversationResponse>, ContentHttpResult, ValidationProblem, ProblemHttpResult> KeyUsed(
        HttpContext context, Idempotency.Claim claim)
    {
        switch (claim)
        {
            case Idempotency.Replay replay:
                context.Response.Headers.Location = $"/conversations/{replay.ConversationId}";
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Text(replay.Body, "application/json", Encoding.UTF8, replay.StatusCode);
            case Idempotency.Linked linked:
                // The first request may have reached Tavus: this one gets that conversation as it is now.
                var existing = ConversationResponse.From(linked.Conversation);
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return linked.Conversation.Status == ConversationStatus.Pending
                    ? TypedResults.Accepted($"/conversations/{existing.ConversationId}", existing)
                    : TypedResults.Created($"/conversations/{existing.ConversationId}", existing);
            case Idempotency.Mismatch:
                return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused",
                    detail: "This Idempotency-Key was already used with a different request body.");
            default:
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Request in progress",
                    detail: "A request with this Idempotency-Key is still being processed; retry shortly.");
        }
    }
}
