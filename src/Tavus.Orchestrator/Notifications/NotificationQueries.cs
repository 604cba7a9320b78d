using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Notifications;

/// <summary>Reads for metrics and the console.</summary>
public static class NotificationQueries
{
    /// <summary>How long the oldest message not yet delivered (nor failed) has waited; zero when none waits.</summary>
    public static async Task<TimeSpan> OldestUndeliveredAsync(OrchestratorDbContext db, DateTime now, CancellationToken cancellationToken)
    {
        var oldest = await db.NotificationMessages.AsNoTracking().Where(m => m.Status == MessageStatus.Pending)
            .OrderBy(m => m.CreatedAt).Select(m => (DateTime?)m.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        return oldest is { } at && at < now ? now - at : TimeSpan.Zero;
    }
}
