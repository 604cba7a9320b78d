using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Webhooks;

/// <summary>What a callback needs to know of its conversation: our key and its token's hash.</summary>
public sealed record CallbackTarget(string Key, string? TavusId, string TokenHash);

/// <summary>
/// Finds the conversation a callback names, from memory after the first callback of each
/// conversation, so the token check costs no database read on the hot path. Ids and token hashes
/// never change once Tavus' id is known, so the cache cannot go stale.
/// </summary>
public sealed class CallbackTargets(IServiceScopeFactory scopes) : IDisposable
{
    private readonly MemoryCache _byTavusId = new(new MemoryCacheOptions { SizeLimit = 200_000 });

    public async ValueTask<CallbackTarget?> FindAsync(string tavusId, string token, CancellationToken cancellationToken)
    {
        if (_byTavusId.TryGetValue(tavusId, out CallbackTarget? cached))
        {
            return cached;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        var target = await db.Conversations.AsNoTracking()
            .Where(c => c.TavusId == tavusId)
            .Select(c => new CallbackTarget(c.Id, c.TavusId, c.CallbackTokenHash))
            .FirstOrDefaultAsync(cancellationToken);
        if (target is not null)
        {
            _byTavusId.Set(tavusId, target, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromHours(2) });
            return target;
        }

        // Tavus' id is not known yet: the create's answer is still on its way or was lost, and
        // only the token identifies the conversation. Not cached: the id will be adopted.
        var hash = CallbackTokens.Hash(token);
        return await db.Conversations.AsNoTracking()
            .Where(c => c.TavusId == null && c.CallbackTokenHash == hash)
            .Select(c => new CallbackTarget(c.Id, c.TavusId, c.CallbackTokenHash))
            .FirstOrDefaultAsync(cancellationToken);
    }

    public void Dispose() => _byTavusId.Dispose();
}
