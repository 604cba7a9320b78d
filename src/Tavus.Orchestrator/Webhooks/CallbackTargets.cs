using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Webhooks;

/// <summary>What a callback needs to know of its conversation: our key, Tavus' id once known, and its tenant.</summary>
public sealed record CallbackTarget(string Key, string? TavusId, string TenantId);

/// <summary>
/// Finds the conversation a callback token belongs to, before the body is read: by the token's
/// SHA-256, under the unique index on it, and from memory after the first callback of each
/// conversation, so the check costs no database read on the hot path. The token is 256 random
/// bits, so looking its hash up (as for API keys) tells a guesser nothing a comparison would not.
/// A target is cached only once Tavus' id is known: neither changes after that.
/// </summary>
public sealed class CallbackTargets(IServiceScopeFactory scopes) : IDisposable
{
    private readonly MemoryCache _byTokenHash = new(new MemoryCacheOptions { SizeLimit = 200_000 });

    /// <summary>The conversation whose token has this hash (<see cref="CallbackTokens.HashFromQuery"/>), if any.</summary>
    public async ValueTask<CallbackTarget?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        if (_byTokenHash.TryGetValue(hash, out CallbackTarget? cached))
        {
            return cached;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        var target = await db.Conversations.AsNoTracking()
            .Where(c => c.CallbackTokenHash == hash)
            .Select(c => new CallbackTarget(c.Id, c.TavusId, c.TenantId))
            .FirstOrDefaultAsync(cancellationToken);
        if (target is { TavusId: not null })
        {
            _byTokenHash.Set(hash, target, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromHours(2) });
        }
        return target;
    }

    public void Dispose() => _byTokenHash.Dispose();
}
