using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;
using Tavus.Orchestrator.Notifications;
using Tavus.Orchestrator.Tavus;
using Tavus.Orchestrator.Webhooks;

namespace Tavus.Orchestrator.Reconciliation;

/// <summary>The reconciler's second job: settling creates whose answer never came.</summary>
public sealed partial class Reconciler
{
    /// <summary>
    /// Creates whose answer never came (a timeout, a 5xx, a crash mid-create) are pending: Tavus may
    /// or may not have created them. Tavus' list, newest first, carries each conversation's
    /// callback_url, and so our token: one found there is adopted; one not found once the list has
    /// gone back past it never reached Tavus and is failed — so it stops counting against the cap,
    /// and its Idempotency-Key is free again.
    /// </summary>
    private async Task<int> ResolvePendingAsync(DateTime now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var settledBefore = now.AddSeconds(-Math.Max(settings.PendingAfterSeconds, tavusOptions.Value.TotalTimeoutSeconds + 30));
        List<(string Id, string TenantId, string TokenHash, DateTime CreatedAt)> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
            due = (await db.Conversations.AsNoTracking()
                .Where(c => c.Status == ConversationStatus.Pending && c.TavusId == null && c.CreatedAt < settledBefore)
                .Where(c => c.ReconcileClaimedUntil == null || c.ReconcileClaimedUntil <= now)
                .OrderBy(c => c.CreatedAt)
                .Select(c => new { c.Id, c.TenantId, c.CallbackTokenHash, c.CreatedAt })
                .Take(settings.BatchSize)
                .ToListAsync(cancellationToken))
                .Select(c => (c.Id, c.TenantId, c.CallbackTokenHash, c.CreatedAt)).ToList();
        }
        var unresolved = new Dictionary<string, (string Id, string TenantId, DateTime CreatedAt)>();
        foreach (var (id, tenantId, tokenHash, createdAt) in due)
        {
            if (await ClaimAsync(id, now, cancellationToken))
            {
                unresolved[tokenHash] = (id, tenantId, createdAt);
            }
        }
        if (unresolved.Count == 0)
        {
            return 0;
        }
        var claimed = unresolved.Count;
        // Tavus' clock and ours differ a little: read on a few minutes past the oldest one.
        var searchBack = unresolved.Values.Min(p => p.CreatedAt).AddMinutes(-5);
        var searchedPastThem = false;
        await using var work = scopes.CreateAsyncScope();
        var tavus = work.ServiceProvider.GetRequiredService<TavusClient>();
        var writes = work.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        try
        {
            searchedPastThem = await SearchTavusAsync();
        }
        catch (TavusException ex)
        {
            // The leases run out and the next pass searches again.
            Log.ListFailed(logger, ex.Failure, ex.Message);
        }
        if (searchedPastThem)
        {
            foreach (var (id, tenantId, _) in unresolved.Values)
            {
                Log.PendingNotAtTavus(logger, id);
                await SettleAsync(writes, id, tenantId, NotificationTypes.Failed, pending => pending
                    .ExecuteUpdateAsync(s => s
                        .SetProperty(c => c.Status, ConversationStatus.Failed)
                        .SetProperty(c => c.FailureDetail, "Tavus did not answer the create, and has no conversation with its callback URL."),
                        cancellationToken), cancellationToken);
            }
        }
        return claimed;

        // Adopts what it finds; true once the list went back past every pending create (or ended).
        async Task<bool> SearchTavusAsync()
        {
            for (var page = 1; page <= settings.PendingSearchPages && unresolved.Count > 0; page++)
            {
                var listed = (await tavus.ListConversationsAsync(page, PendingPageSize, cancellationToken)).Data ?? [];
                foreach (var remote in listed)
                {
                    if (TokenHashOf(remote.CallbackUrl) is { } hash && unresolved.Remove(hash, out var found))
                    {
                        Log.PendingAdopted(logger, found.Id, remote.ConversationId);
                        await SettleAsync(writes, found.Id, found.TenantId, NotificationTypes.Created, pending => pending
                            .ExecuteUpdateAsync(s => s
                                .SetProperty(c => c.TavusId, remote.ConversationId)
                                .SetProperty(c => c.ConversationUrl, remote.ConversationUrl)
                                .SetProperty(c => c.Status, ConversationStatus.Created), cancellationToken), cancellationToken);
                    }
                }
                if (listed.Count < PendingPageSize ||
                    listed.Any(c => DateTimeOffset.TryParse(c.CreatedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at.UtcDateTime < searchBack))
                {
                    return true;
                }
            }
            return unresolved.Count == 0;
        }
    }

    private const int PendingPageSize = 100;

    /// <summary>A pending create settled (adopted or failed), with the tenant's notification of it in the same commit.</summary>
    private async Task SettleAsync(OrchestratorDbContext db, string id, string tenantId, string notification,
        Func<IQueryable<Conversation>, Task<int>> update, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var notifies = await update(db.Conversations.Where(c => c.Id == id && c.Status == ConversationStatus.Pending && c.TavusId == null)) == 1
            && await Outbox.AddAsync(db, tenantId, id, notification, time.GetUtcNow().UtcDateTime, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (notifies)
        {
            outbox.Raise();
        }
    }

    private static string? TokenHashOf(string? callbackUrl) =>
        Uri.TryCreate(callbackUrl, UriKind.Absolute, out var uri) ? CallbackTokens.HashFromQuery(uri.Query) : null;
}
