using System.Diagnostics.Metrics;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Telemetry;

/// <summary>
/// Live conversations by tenant, counted by the database when a reader (a scrape, an export) asks,
/// at most every <see cref="MaxAge"/>: instances share the database, so each reports the same
/// numbers, and nothing on the request paths keeps a count that a restart would lose.
/// </summary>
public sealed partial class LiveConversationsGauge(IServiceScopeFactory scopes, TimeProvider time, ILogger<LiveConversationsGauge> logger)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);
    private readonly Lock _lock = new();
    private Measurement<long>[] _last = [];
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;

    public IEnumerable<Measurement<long>> Read()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (now - _readAt < MaxAge)
            {
                return _last;
            }
            _readAt = now;
            try
            {
                using var scope = scopes.CreateScope();
                var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
                _last = [.. db.Conversations
                    .Where(c => Lifecycle.LiveStatuses.Contains(c.Status))
                    .GroupBy(c => c.TenantId)
                    .Select(g => new { TenantId = g.Key, Count = g.Count() })
                    .AsEnumerable()
                    .Select(g => new Measurement<long>(g.Count, new KeyValuePair<string, object?>("tenant_id", g.TenantId)))];
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A scrape while the database is away reports the last numbers, not an error.
                Log.ReadFailed(logger, ex);
            }
            return _last;
        }
    }

    // Event ids 600–619: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Warning, Message = "Live conversations could not be counted for the metric")]
        public static partial void ReadFailed(ILogger logger, Exception exception);
    }
}
