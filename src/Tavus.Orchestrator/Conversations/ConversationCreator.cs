using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Notifications;
using Tavus.Orchestrator.Tavus;
using Tavus.Orchestrator.Tenants;
using Tavus.Orchestrator.Usage;
using Tavus.Orchestrator.Webhooks;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// Creating a conversation: policy → Idempotency-Key → a pending row (under the cap) → Tavus → the
/// stored conversation. A create that may have reached Tavus (timeout, 5xx, a lost answer) is never
/// repeated: its row stays pending, its key stays with it, and the reconciler finds out from Tavus
/// whether it exists. Knows nothing of HTTP: <see cref="ConversationCreation"/> turns each
/// <see cref="CreateOutcome"/> into an answer.
/// </summary>
public sealed partial class ConversationCreator(
    OrchestratorDbContext db,
    TavusClient tavus,
    IDatabaseDialect dialect,
    UsageReports usage,
    OutboxSignal outbox,
    TimeProvider time,
    IOptions<WebhooksOptions> webhooks,
    ILogger<ConversationCreator> logger)
{
    public async Task<CreateOutcome> CreateAsync(Tenant tenant, CreateConversationRequest request, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var timers = request.Properties;
        var resolution = tenant.Policy.Resolve(timers?.MaxCallDuration, timers?.ParticipantLeftTimeout, timers?.ParticipantAbsentTimeout);
        if (resolution.Errors.Count > 0)
        {
            return new CreateOutcome.OutsidePolicy(resolution.Errors.ToDictionary());
        }

        var claim = idempotencyKey is null
            ? Idempotency.Owned.None(db, tenant.Id)
            : await Idempotency.ClaimAsync(db, tenant.Id, idempotencyKey, request.BodyHash, time.GetUtcNow().UtcDateTime, cancellationToken);
        if (claim is not Idempotency.Owned owned)
        {
            return new CreateOutcome.KeyUsed(claim);
        }
        // The key is this request's now: whatever way this ends without settling it frees it (a
        // client that hangs up must not leave its key claimed for a day).
        await using (owned)
        {
            var token = CallbackTokens.Generate();
            var (pending, refusal) = await InsertPendingAsync(tenant, request, resolution, token, owned, cancellationToken);
            if (pending is null)
            {
                return refusal!;
            }
            // From here on the request may reach Tavus: finish even if the client goes away, so that
            // a conversation Tavus created is never left unrecorded.
            return await CreateAtTavusAsync(tenant, request.WithTimers(resolution.Timers), pending, token, owned);
        }
    }

    private async Task<CreateOutcome> CreateAtTavusAsync(Tenant tenant, CreateConversationRequest request, Conversation pending, string token, Idempotency.Owned owned)
    {
        var body = JsonSerializer.SerializeToNode(request, JsonFormats.Tavus)!.AsObject();
        body["callback_url"] = CallbackTokens.CallbackUrl(webhooks.Value.PublicBaseUrl, token);
        TavusConversation created;
        try
        {
            created = await tavus.CreateConversationAsync(body, CancellationToken.None);
        }
        catch (TavusException ex) when (ex.Failure is TavusFailure.Timeout or TavusFailure.Unavailable)
        {
            // Tavus may have acted on it: nothing is repeated or released. The reconciler asks Tavus.
            Log.MayHaveReachedTavus(logger, tenant.Id, ex.Failure, ex.Message, pending.Id);
            await owned.LeaveUnresolvedAsync();
            return new CreateOutcome.MayHaveReachedTavus(ex, pending.Id);
        }
        catch (TavusException ex)
        {
            // Tavus answered 4xx: it created nothing, so the key is freed for a retry (on dispose).
            Log.Refused(logger, tenant.Id, ex.Failure, ex.Message);
            await UpdateAsync(pending, NotificationTypes.Failed, s => s
                .SetProperty(c => c.Status, ConversationStatus.Failed)
                .SetProperty(c => c.FailureDetail, ex.Message));
            return new CreateOutcome.TavusRefused(ex);
        }

        await UpdateAsync(pending, NotificationTypes.Created, s => s
            .SetProperty(c => c.TavusId, c => c.TavusId ?? created.ConversationId)
            .SetProperty(c => c.ConversationUrl, created.ConversationUrl)
            .SetProperty(c => c.ConversationName, c => created.ConversationName ?? c.ConversationName)
            // A callback may already have moved it on; only a still-pending row becomes created.
            .SetProperty(c => c.Status, c => c.Status == ConversationStatus.Pending ? ConversationStatus.Created : c.Status));
        var stored = await db.Conversations.AsNoTracking().FirstAsync(c => c.Id == pending.Id, CancellationToken.None);
        var response = ConversationResponse.From(stored);
        await owned.CompleteAsync(StatusCodes.Status201Created, JsonSerializer.Serialize(response, JsonFormats.Http), response.ConversationId);
        Log.Created(logger, created.ConversationId, tenant.Id);
        return new CreateOutcome.Created(response);
    }

    /// <summary>
    /// Settles the pending row; if it was still pending (no callback moved it first), the tenant's
    /// notification of it goes into the outbox in the same commit.
    /// </summary>
    private async Task UpdateAsync(Conversation pending, string notification, Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<Conversation>> set)
    {
        using (await dialect.EnterWriteAsync(CancellationToken.None))
        await using (var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None))
        {
            var notifies = await db.Conversations.AnyAsync(c => c.Id == pending.Id && c.Status == ConversationStatus.Pending, CancellationToken.None);
            await db.Conversations.Where(c => c.Id == pending.Id).ExecuteUpdateAsync(set, CancellationToken.None);
            notifies = notifies && await Outbox.AddAsync(db, pending.TenantId, pending.Id, notification, time.GetUtcNow().UtcDateTime, CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
            if (notifies)
            {
                outbox.Raise();
            }
        }
    }

    /// <summary>
    /// The pending row, in one transaction with the cap check and the Idempotency-Key's link to it
    /// (the quota checked just before); no row, and the refusal, when the tenant is out of minutes or at its cap.
    /// </summary>
    private async Task<(Conversation? Pending, CreateOutcome? Refusal)> InsertPendingAsync(
        Tenant tenant, CreateConversationRequest request, TimerResolution resolution, string token, Idempotency.Owned owned,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var timers = resolution.Timers;
        var conversation = new Conversation
        {
            Id = Conversation.NewId(),
            TenantId = tenant.Id,
            Status = ConversationStatus.Pending,
            ConversationName = request.ConversationName,
            MaxCallDuration = timers.MaxCallDuration,
            ParticipantLeftTimeout = timers.ParticipantLeftTimeout,
            ParticipantAbsentTimeout = timers.ParticipantAbsentTimeout,
            Adjustments = [.. resolution.Adjustments],
            CreatedAt = now,
            DeadlineAt = now.AddSeconds(timers.MaxCallDuration),
            CallbackTokenHash = CallbackTokens.Hash(token),
        };

        // The month's minutes are added up before the write turn, not inside it: on SQLite the turn
        // is the event writer's too, and a month of conversations takes a while to sum. Nothing is
        // lost by it: a conversation created a moment ago has used no minutes, so creates racing for
        // the last minutes would not see each other's even under the lock.
        if (tenant.Policy.MaxMinutesPerMonth is { } quota)
        {
            var used = await usage.MinutesThisMonthAsync(tenant.Id, cancellationToken);
            if (used >= quota)
            {
                return (null, new CreateOutcome.QuotaExhausted(
                    $"Tenant '{tenant.Id}' used {used:0.0} of its {quota} minutes this month (UTC); the quota renews on the first of next month.",
                    UsageWindow.MonthOf(now).End));
            }
        }

        // The count and the insert are serialised per tenant, so two creates racing for the last
        // slot cannot both get it: SQLite's write transactions are (BEGIN IMMEDIATE); on PostgreSQL,
        // across instances, the dialect's lock on the tenant does it.
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
                    return (null, new CreateOutcome.AtCap(
                        $"Tenant '{tenant.Id}' already has {live} conversations that have not ended; its policy allows {cap}."));
                }
            }
            db.Conversations.Add(conversation);
            await db.SaveChangesAsync(CancellationToken.None);
            await owned.LinkAsync(conversation.Id);
            await transaction.CommitAsync(CancellationToken.None);
        }
        return (conversation, null);
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

/// <summary>How a create ended: each case one answer of <c>POST /conversations</c>.</summary>
public abstract record CreateOutcome
{
    /// <summary>Tavus created it; stored as <c>created</c> (or further, if a callback came first).</summary>
    public sealed record Created(ConversationResponse Conversation) : CreateOutcome;

    /// <summary>A timer outside the tenant's policy, by field.</summary>
    public sealed record OutsidePolicy(Dictionary<string, string[]> Errors) : CreateOutcome;

    /// <summary>The Idempotency-Key was used before: a replay, the first request's conversation, a mismatch, or still running.</summary>
    public sealed record KeyUsed(Idempotency.Claim Claim) : CreateOutcome;

    /// <summary>The tenant has as many live conversations as its policy allows.</summary>
    public sealed record AtCap(string Detail) : CreateOutcome;

    /// <summary>The tenant's minutes this UTC month reached its policy's quota; it renews at <paramref name="RenewsAt"/>.</summary>
    public sealed record QuotaExhausted(string Detail, DateTime RenewsAt) : CreateOutcome;

    /// <summary>Tavus did not answer or failed: it may have created it; the row stays pending for the reconciler.</summary>
    public sealed record MayHaveReachedTavus(TavusException Error, string ConversationKey) : CreateOutcome;

    /// <summary>Tavus refused it (4xx): nothing was created.</summary>
    public sealed record TavusRefused(TavusException Error) : CreateOutcome;
}
