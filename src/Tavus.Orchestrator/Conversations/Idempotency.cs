using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// <c>Idempotency-Key</c> for creates: per tenant, for 24 h. The key is claimed by inserting a row
/// under a primary key, so of two concurrent requests exactly one proceeds; the other waits for
/// its answer and replays it.
/// </summary>
public static class Idempotency
{
    public const string Header = "Idempotency-Key";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private static readonly TimeSpan WaitForFirst = TimeSpan.FromSeconds(60);

    public abstract record Claim;

    /// <summary>
    /// This request owns the key: it links the key to the conversation it stores, then completes it
    /// with its answer or leaves it unresolved; any other way out (an error, a refusal, a client
    /// that hung up) releases it on dispose, so a retry with the same key is tried again.
    /// </summary>
    public sealed record Owned(OrchestratorDbContext Db, string TenantId, string? Key) : Claim, IAsyncDisposable
    {
        private bool _settled;

        /// <summary>A create without a key: nothing to link, complete or release.</summary>
        public static Owned None(OrchestratorDbContext db, string tenantId) => new(db, tenantId, null);

        /// <summary>Ties the key to the conversation its request stored, in the caller's transaction.</summary>
        public Task LinkAsync(string conversationId) => Key is null ? Task.CompletedTask :
            Db.IdempotencyRecords.Where(r => r.TenantId == TenantId && r.Key == Key)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.ConversationId, conversationId), CancellationToken.None);

        /// <summary>Stores the answer given, for replays.</summary>
        public async Task CompleteAsync(int statusCode, string body, string conversationId)
        {
            _settled = true;
            if (Key is not null)
            {
                await Db.IdempotencyRecords.Where(r => r.TenantId == TenantId && r.Key == Key).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.StatusCode, statusCode)
                    .SetProperty(r => r.ResponseBody, body)
                    .SetProperty(r => r.ConversationId, conversationId), CancellationToken.None);
            }
        }

        /// <summary>The request ends without knowing whether Tavus created its conversation; retries get that conversation.</summary>
        public async Task LeaveUnresolvedAsync()
        {
            _settled = true;
            if (Key is not null)
            {
                await Db.IdempotencyRecords.Where(r => r.TenantId == TenantId && r.Key == Key)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.StatusCode, Unresolved), CancellationToken.None);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_settled && Key is not null)
            {
                await ReleaseAsync(Db, TenantId, Key);
            }
        }
    }

    /// <summary>The first request with this key finished: answer what it answered.</summary>
    public sealed record Replay(int StatusCode, string Body, string? ConversationId) : Claim;

    /// <summary>
    /// The first request stored its conversation but did not learn whether Tavus created it: this
    /// one gets that conversation as it is now (pending until the reconciler asks Tavus).
    /// </summary>
    public sealed record Linked(Conversation Conversation) : Claim;

    /// <summary>The key was used with another body.</summary>
    public sealed record Mismatch : Claim;

    /// <summary>The first request is still running after the wait.</summary>
    public sealed record StillRunning : Claim;

    public static string Hash(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    public static async Task<Claim> ClaimAsync(OrchestratorDbContext db, string tenantId, string key, string requestHash, DateTime now, CancellationToken cancellationToken)
    {
        var waitUntil = DateTime.UtcNow + WaitForFirst;
        while (true)
        {
            // A key older than 24 h is free again.
            var expired = now - Lifetime;
            await db.IdempotencyRecords.Where(r => r.TenantId == tenantId && r.Key == key && r.CreatedAt < expired)
                .ExecuteDeleteAsync(cancellationToken);
            db.IdempotencyRecords.Add(new IdempotencyRecord { TenantId = tenantId, Key = key, RequestHash = requestHash, CreatedAt = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return new Owned(db, tenantId, key);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
            {
                db.ChangeTracker.Clear();
            }

            var existing = await db.IdempotencyRecords.AsNoTracking()
                .FirstOrDefaultAsync(r => r.TenantId == tenantId && r.Key == key, cancellationToken);
            if (existing is null)
            {
                continue; // released by a failed first request: try to own it
            }
            if (existing.RequestHash != requestHash)
            {
                return new Mismatch();
            }
            if (existing.StatusCode is { } status && status != Unresolved)
            {
                return new Replay(status, existing.ResponseBody ?? "", existing.ConversationId);
            }
            if (existing.ConversationId is { } linked)
            {
                // Its request gave up on Tavus' answer, or died and the reconciler has settled it since.
                var conversation = await db.Conversations.AsNoTracking().FirstOrDefaultAsync(c => c.Id == linked, cancellationToken);
                if (conversation is null || conversation.Status == ConversationStatus.Failed)
                {
                    // Tavus never created it (the reconciler found out): the key is free for a new try.
                    await ReleaseAsync(db, tenantId, key);
                    continue;
                }
                if (existing.StatusCode == Unresolved || conversation.Status != ConversationStatus.Pending)
                {
                    return new Linked(conversation);
                }
            }
            if (DateTime.UtcNow > waitUntil)
            {
                return new StillRunning();
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    /// <summary>The status a key keeps while its conversation waits for the reconciler to ask Tavus.</summary>
    private const int Unresolved = StatusCodes.Status202Accepted;

    /// <summary>
    /// Frees the key after a create that made nothing (cap reached, Tavus refused or unreachable),
    /// so that the client's retry with the same key is tried again rather than answered the error.
    /// </summary>
    private static Task<int> ReleaseAsync(OrchestratorDbContext db, string tenantId, string key) =>
        db.IdempotencyRecords.Where(r => r.TenantId == tenantId && r.Key == key).ExecuteDeleteAsync(CancellationToken.None);

    /// <summary>Removes keys past their lifetime.</summary>
    public static Task<int> PurgeAsync(OrchestratorDbContext db, DateTime now, CancellationToken cancellationToken)
    {
        var expired = now - Lifetime;
        return db.IdempotencyRecords.Where(r => r.CreatedAt < expired).ExecuteDeleteAsync(cancellationToken);
    }
}
