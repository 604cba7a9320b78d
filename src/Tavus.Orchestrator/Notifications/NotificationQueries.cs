using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Notifications;

/// <summary>Reads for metrics and the console.</summary>
public static class NotificationQueries
{
    /// <summary>When the oldest message not yet delivered (nor failed) was created; null when none waits.</summary>
    public static Task<DateTime?> OldestUndeliveredAsync(OrchestratorDbContext db, CancellationToken cancellationToken) =>
        db.NotificationMessages.AsNoTracking().Where(m => m.Status == MessageStatus.Pending)
            .OrderBy(m => m.CreatedAt).Select(m => (DateTime?)m.CreatedAt).FirstOrDefaultAsync(cancellationToken);
}
