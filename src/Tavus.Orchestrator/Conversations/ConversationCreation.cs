using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tavus;
using Tavus.Orchestrator.Tenants;
using Tavus.Orchestrator.Webhooks;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// <c>POST /conversations</c>: validate → policy → Idempotency-Key → a pending row (under the cap) →
/// Tavus → the stored conversation. A create that may have reached Tavus (timeout, 5xx, a lost
/// answer) is never repeated: its row stays pending, its key stays with it, and the reconciler
/// finds out from Tavus whether it exists.
/// </summary>
public static partial class ConversationCreation
{
    public static async Task<Results<Created<ConversationResponse>, Accepted<ConversationResponse>, ContentHttpResult, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext context,
        OrchestratorDbContext db,
        TavusClient tavus,
        IDatabaseDialect dialect,
        TimeProvider time,
        IOptions<WebhooksOptions> webhooks,
        IOptions<ConversationsOptions> limits,
        IOptions<JsonOptions> json,
        ILogger<Conversation> logger)
    {
        var tenantId = context.User.TenantId();
        var maxBodyBytes = limits.Value.MaxBodyBytes;
        if (await RequestBody.ReadAsync(context.Request, maxBodyBytes, context.RequestAborted) is not { } bytes)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The body is too large.",
                detail: $"A create body is at most Conversations:MaxBodyBytes ({maxBodyBytes} bytes).");
        }
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false });
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // JsonException's message can quote a megabyte-long name back: say what, not that.
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The body is not valid JSON.",
                detail: "The body must be one JSON object, with each property name at most once.");
        }

        var errors = new Dictionary<string, string[]>();
        var request = ValidatedCreate.Validate(root, errors);
        var key = context.Request.Headers[Idempotency.Header].ToString();
        if (key.Length > 200 || !TextRules.IsStorable(key))
        {
            errors[Idempotency.Header] = ["Idempotency-Key is at most 200 characters, without control characters."];
        }
        if (request is null || errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The request has invalid fields.");
        }

        var tenant = await db.Tenants.AsNoTracking().FirstAsync(t => t.Id == tenantId, context.RequestAborted);
        var resolution = tenant.Policy.Resolve(request.MaxCallDuration, request.ParticipantLeftTimeout, request.ParticipantAbsentTimeout);
        if (resolution.Errors.Count > 0)
        {
            return TypedResults.Problem(new HttpValidationProblemDetails(resolution.Errors.ToDictionary())
            {
                Status = StatusCodes.Status422UnprocessableEntity,
                Title = "The request is outside the tenant's policy.",
                Detail = "Send values within the bounds listed in GET /tenant, or leave them out to take the defaults.",
            });
        }

        if (key.Length > 0)
        {
            switch (await Idempotency.ClaimAsync(db, tenantId, key, Idempotency.Hash(bytes.Span), time.GetUtcNow().UtcDateTime, context.RequestAborted))
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
                case Idempotency.StillRunning:
                    return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Request in progress",
                        detail: "A request with this Idempotency-Key is still being processed; retry shortly.");
            }
        }

        // The key is this request's now; until a pending row holds it, any way out frees it (a client
        // that hangs up here must not leave its key claimed for a day).
        var token = CallbackTokens.Generate();
        Conversation? pending = null;
        try
        {
            pending = await InsertPendingAsync(db, dialect, tenant, request, resolution, token, key, time, context.RequestAborted);
        }
        finally
        {
            if (pending is null && key.Length > 0)
            {
                await Idempotency.ReleaseAsync(db, tenantId, key);
            }
        }
        if (pending.Status == ConversationStatus.Failed)
        {
            if (key.Length > 0)
            {
                await Idempotency.ReleaseAsync(db, tenantId, key);
            }
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Concurrency cap reached",
                detail: pending.FailureDetail, type: Problems.ConcurrencyCap);
        }

        var body = request.Body;
        var properties = body["properties"] as System.Text.Json.Nodes.JsonObject ?? [];
        properties["max_call_duration"] = pending.MaxCallDuration;
        properties["participant_left_timeout"] = pending.ParticipantLeftTimeout;
        properties["participant_absent_timeout"] = pending.ParticipantAbsentTimeout;
        body["properties"] = properties;
        body["callback_url"] = CallbackTokens.CallbackUrl(webhooks.Value.PublicBaseUrl, token);

        // From here on the request may reach Tavus: finish even if the client goes away, so that
        // a conversation Tavus created is never left unrecorded.
        TavusConversation created;
        try
        {
            created = await tavus.CreateConversationAsync(body, CancellationToken.None);
        }
        catch (TavusException ex) when (ex.Failure is TavusFailure.Timeout or TavusFailure.Unavailable)
        {
            // Tavus may have acted on it: nothing is repeated or released. The reconciler asks Tavus.
            Log.MayHaveReachedTavus(logger, tenant.Id, ex.Failure, ex.Message, pending.Id);
            if (key.Length > 0)
            {
                await Idempotency.LeaveUnresolvedAsync(db, tenantId, key);
            }
            return TypedResults.Problem(statusCode: ex.StatusCode, title: ex.Title,
                detail: ex.Message + " Tavus may still have created it: it stays pending until Tavus is asked (within a " +
                    "reconciliation pass); GET /conversations/{conversation_id}, or retry with the same Idempotency-Key.",
                extensions: new Dictionary<string, object?> { ["conversation_id"] = pending.Id });
        }
        catch (TavusException ex)
        {
            // Tavus answered 4xx: it created nothing, so the key is free for a retry.
            Log.Refused(logger, tenant.Id, ex.Failure, ex.Message);
            using (await dialect.EnterWriteAsync(CancellationToken.None))
            {
                await db.Conversations.Where(c => c.Id == pending.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, ConversationStatus.Failed)
                    .SetProperty(c => c.FailureDetail, ex.Message), CancellationToken.None);
            }
            if (key.Length > 0)
            {
                await Idempotency.ReleaseAsync(db, tenantId, key);
            }
            return ex.ToProblem();
        }

        context.SetConversationId(created.ConversationId);
        using (await dialect.EnterWriteAsync(CancellationToken.None))
        {
            await db.Conversations.Where(c => c.Id == pending.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.TavusId, c => c.TavusId ?? created.ConversationId)
                .SetProperty(c => c.ConversationUrl, created.ConversationUrl)
                .SetProperty(c => c.ConversationName, c => created.ConversationName ?? c.ConversationName)
                // A callback may already have moved it on; only a still-pending row becomes created.
                .SetProperty(c => c.Status, c => c.Status == ConversationStatus.Pending ? ConversationStatus.Created : c.Status),
                CancellationToken.None);
        }
        var stored = await db.Conversations.AsNoTracking().FirstAsync(c => c.Id == pending.Id, CancellationToken.None);
        var response = ConversationResponse.From(stored);
        if (key.Length > 0)
        {
            await Idempotency.CompleteAsync(db, tenantId, key, StatusCodes.Status201Created,
                JsonSerializer.Serialize(response, json.Value.SerializerOptions), response.ConversationId);
        }
        Log.Created(logger, created.ConversationId, tenant.Id);
        return TypedResults.Created($"/conversations/{response.ConversationId}", response);
    }

    /// <summary>
    /// The pending row, in one transaction with the cap check and the Idempotency-Key's link to it;
    /// a row with status <c>Failed</c> and the reason, not stored, when the tenant is at its cap.
    /// </summary>
    private static async Task<Conversation> InsertPendingAsync(
        OrchestratorDbContext db, IDatabaseDialect dialect, Tenant tenant, ValidatedCreate request, TimerResolution resolution,
        string token, string key, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var timers = resolution.Timers;
        var conversation = new Conversation
        {
            Id = Conversation.NewId(),
            TenantId = tenant.Id,
            Status = ConversationStatus.Pending,
            ConversationName = request.Body["conversation_name"]?.GetValue<string>(),
            MaxCallDuration = timers.MaxCallDuration,
            ParticipantLeftTimeout = timers.ParticipantLeftTimeout,
            ParticipantAbsentTimeout = timers.ParticipantAbsentTimeout,
            Adjustments = [.. resolution.Adjustments],
            CreatedAt = now,
            DeadlineAt = now.AddSeconds(timers.MaxCallDuration),
            CallbackTokenHash = CallbackTokens.Hash(token),
        };

        // The count and the insert are serialised per tenant, so two creates racing for the last
        // slot cannot both get it: SQLite's write transactions are (BEGIN IMMEDIATE); on PostgreSQL,
        // across instances, a transaction-scoped advisory lock on the tenant does it.
        // Once begun, the transaction runs to its end even if the client hangs up: it is short, and a
        // transaction cut off midway is only noise in the log.
        using (await dialect.EnterWriteAsync(cancellationToken))
        await using (var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None))
        {
            if (tenant.Policy.MaxConcurrentConversations is { } cap)
            {
                await dialect.LockTenantAsync(db, tenant.Id, CancellationToken.None);
                var live = await db.Conversations.CountAsync(c => c.TenantId == tenant.Id && Lifecycle.LiveStatuses.Contains(c.Status),
                    CancellationToken.None);
                if (live >= cap)
                {
                    conversation.Status = ConversationStatus.Failed;
                    conversation.FailureDetail = $"Tenant '{tenant.Id}' already has {live} conversations that have not ended; its policy allows {cap}.";
                    return conversation;
                }
            }
            db.Conversations.Add(conversation);
            await db.SaveChangesAsync(CancellationToken.None);
            if (key.Length > 0)
            {
                await Idempotency.LinkAsync(db, tenant.Id, key, conversation.Id);
            }
            await transaction.CommitAsync(CancellationToken.None);
        }
        return conversation;
    }

    // Event ids 300–399: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Warning,
            Message = "A create for tenant {TenantId} may have reached Tavus ({Failure}: {Detail}); {ConversationKey} stays pending")]
        public static partial void MayHaveReachedTavus(ILogger logger, string tenantId, TavusFailure failure, string detail, string conversationKey);

        [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Tavus refused a create for tenant {TenantId}: {Failure} {Detail}")]
        public static partial void Refused(ILogger logger, string tenantId, TavusFailure failure, string detail);

        [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "Conversation {ConversationId} created for tenant {TenantId}")]
        public static partial void Created(ILogger logger, string conversationId, string tenantId);
    }
}
