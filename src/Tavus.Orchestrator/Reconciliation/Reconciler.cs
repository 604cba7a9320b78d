using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Notifications;
using Tavus.Orchestrator.Tavus;
using Tavus.Orchestrator.Webhooks;

namespace Tavus.Orchestrator.Reconciliation;

/// <summary>
/// Tavus promises no callback. On every interval this asks Tavus about each conversation not yet
/// ended that is past its deadline plus grace, or silent for too long; records the end Tavus
/// reports (source: reconciler), and ends overruns. Its state is the database, so it resumes after
/// a restart; the one-end-per-conversation index keeps a late callback from ending it twice.
/// </summary>
public sealed partial class Reconciler(
    IServiceScopeFactory scopes,
    EventWriter writer,
    OutboxSignal outbox,
    TimeProvider time,
    IOptions<ReconciliationOptions> options,
    IOptions<TavusOptions> tavusOptions,
    ILogger<Reconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.IntervalSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PassFailed(logger, ex);
            }
        }
    }

    /// <summary>One pass: returns how many conversations were checked.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var overdue = now.AddSeconds(-settings.GraceSeconds);
        var silentSince = now.AddSeconds(-settings.StaleAfterSeconds);

        List<string> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
            // Idempotency keys past their 24 h go with the same pass: nothing else needs a timer.
            await Idempotency.PurgeAsync(db, now, cancellationToken);
            due = await db.Conversations.AsNoTracking()
                .Where(c => (c.Status == ConversationStatus.Created || c.Status == ConversationStatus.Active) && c.TavusId != null)
                .Where(c => c.DeadlineAt < overdue || (c.LastEventAt ?? c.CreatedAt) < silentSince)
                .Where(c => c.ReconcileClaimedUntil == null || c.ReconcileClaimedUntil <= now)
                .OrderBy(c => c.DeadlineAt)
                .Select(c => c.Id)
                .Take(settings.BatchSize)
                .ToListAsync(cancellationToken);
        }

        var checkedCount = await ResolvePendingAsync(now, cancellationToken);
        foreach (var id in due)
        {
            if (!await ClaimAsync(id, now, cancellationToken))
            {
                continue; // another instance holds it
            }
            checkedCount++;
            try
            {
                await ReconcileAsync(id, cancellationToken);
            }
            catch (TavusException ex)
            {
                Log.TavusFailed(logger, id, ex.Failure, ex.Message);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Tavus' answers are untrusted input: one of an unexpected shape skips its
                // conversation (retried next pass), not the rest of the pass.
                Log.Skipped(logger, ex, id);
            }
        }
        return checkedCount;
    }

    /// <summary>
    /// Takes a lease on one conversation with a conditional update: of several instances that
    /// found it due, exactly one sees its update succeed and checks it. A crashed instance's lease
    /// runs out after two intervals, and the check is safe to repeat (one end per conversation).
    /// </summary>
    private async Task<bool> ClaimAsync(string id, DateTime now, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        var until = now.AddSeconds(options.Value.IntervalSeconds * 2);
        var claimed = await db.Conversations
            .Where(c => c.Id == id && (c.ReconcileClaimedUntil == null || c.ReconcileClaimedUntil <= now))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ReconcileClaimedUntil, until), cancellationToken);
        return claimed == 1;
    }

    private async Task ReconcileAsync(string id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        var tavus = scope.ServiceProvider.GetRequiredService<TavusClient>();
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (conversation is null || conversation.Status == ConversationStatus.Ended)
        {
            return;
        }
        var now = time.GetUtcNow().UtcDateTime;

        TavusConversation remote;
        try
        {
            remote = await tavus.GetConversationAsync(conversation.TavusId!, verbose: true, cancellationToken);
        }
        catch (TavusException ex) when (ex.Failure == TavusFailure.NotFound)
        {
            // Tavus no longer knows it (deleted): it cannot be running any more.
            await RecordEndAsync(conversation, "conversation_not_found_at_tavus", null, now, cancellationToken);
            return;
        }

        if (string.Equals(remote.Status, "ended", StringComparison.OrdinalIgnoreCase))
        {
            var shutdown = remote.Events?.FirstOrDefault(e => e.EventType == "system.shutdown");
            var reason = remote.ShutdownReason
                ?? (shutdown?.Properties is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("shutdown_reason", out var r) ? Hosting.TextRules.ReadStorable(r, 1000) : null);
            var endedAt = shutdown is not null ? ParsedCallback.ParseTimestamp(shutdown.Timestamp) : null;
            await RecordEndAsync(conversation, reason ?? "ended (no reason given by Tavus)", endedAt, now, cancellationToken);

            var transcript = remote.Events?.FirstOrDefault(e => e.EventType == "application.transcription_ready");
            if (transcript is not null && !await db.ConversationEvents.AnyAsync(
                e => e.ConversationId == conversation.Id && e.Kind == EventKind.TranscriptionReady, cancellationToken))
            {
                var raw = transcript.Properties.GetRawText();
                await writer.WriteAsync(new EventWrite(
                    NewEvent(conversation, EventKind.TranscriptionReady, "application.transcription_ready",
                        ParsedCallback.ParseTimestamp(transcript.Timestamp) ?? now, now, raw),
                    Lifecycle.EffectOf(EventKind.TranscriptionReady, transcript.Properties), TenantId: conversation.TenantId), cancellationToken);
            }
            return;
        }

        if (conversation.DeadlineAt < now.AddSeconds(-options.Value.GraceSeconds))
        {
            Log.Overrun(logger, conversation.TavusId, conversation.DeadlineAt);
            await tavus.EndConversationAsync(conversation.TavusId!, cancellationToken);
        }
        // Tavus answered: the conversation is not silent any more.
        conversation.LastEventAt = now;
        await db.SaveChangesAsync(cancellationToken);
    }

    private Task<RecordOutcome> RecordEndAsync(Conversation conversation, string shutdownReason, DateTime? endedAt, DateTime now, CancellationToken cancellationToken)
    {
        // Shaped like Tavus' shutdown callback, so that the same rule turns it into the end.
        var properties = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["shutdown_reason"] = shutdownReason });
        var raw = properties.GetRawText();
        return writer.WriteAsync(new EventWrite(
            NewEvent(conversation, EventKind.Ended, "system.shutdown", endedAt ?? now, now, raw),
            Lifecycle.EffectOf(EventKind.Ended, properties), TenantId: conversation.TenantId), cancellationToken);
    }

    private static ConversationEvent NewEvent(Conversation conversation, EventKind kind, string eventType, DateTime occurredAt, DateTime receivedAt, string properties) => new()
    {
        ConversationId = conversation.Id,
        Kind = kind,
        EventType = eventType,
        OccurredAt = occurredAt,
        ReceivedAt = receivedAt,
        Source = EventSource.Reconciler,
        Properties = properties,
        DedupeKey = $"reconciler:{eventType}",
    };

    // Event ids 200–299: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "Reconciliation pass failed; the next one retries")]
        public static partial void PassFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Could not reconcile {ConversationKey}: {Failure} {Detail}")]
        public static partial void TavusFailed(ILogger logger, string conversationKey, TavusFailure failure, string detail);

        [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Could not reconcile {ConversationKey}; skipped until the next pass")]
        public static partial void Skipped(ILogger logger, Exception exception, string conversationKey);

        [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Could not list Tavus' conversations to resolve pending creates: {Failure} {Detail}")]
        public static partial void ListFailed(ILogger logger, TavusFailure failure, string detail);

        [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Pending {ConversationKey} is not at Tavus; marked failed")]
        public static partial void PendingNotAtTavus(ILogger logger, string conversationKey);

        [LoggerMessage(EventId = 205, Level = LogLevel.Information, Message = "Pending {ConversationKey} found at Tavus as {ConversationId}; adopted")]
        public static partial void PendingAdopted(ILogger logger, string conversationKey, string conversationId);

        [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "Conversation {ConversationId} runs past its deadline {DeadlineAt}; ending it")]
        public static partial void Overrun(ILogger logger, string? conversationId, DateTime deadlineAt);
    }
}
