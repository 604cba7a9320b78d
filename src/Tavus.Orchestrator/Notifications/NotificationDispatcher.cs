using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Notifications;

/// <summary>
/// Sends the outbox. A pass claims due messages tenant by tenant — at most
/// <see cref="NotificationsOptions.MaxConcurrentPerEndpoint"/> in flight per endpoint, so a slow or
/// dead endpoint holds only its own tenant's messages — and makes one attempt each. Between passes
/// it sleeps until the <see cref="OutboxSignal"/> says this instance wrote a message or freed a
/// slot, until the next scheduled retry is due, or at most
/// <see cref="NotificationsOptions.PollMilliseconds"/> (for messages another instance wrote and
/// could not send): idle, it costs a query per look, not per second. A claim is a lease taken by a
/// conditional update (as the reconciler's): of several instances, one makes each attempt; a
/// crashed one's lease runs out and the attempt is made again (at least once; receivers dedupe by
/// <c>webhook-id</c>). Attempt numbers are unique per message in the database, so an attempt slot
/// is recorded once.
/// </summary>
public sealed partial class NotificationDispatcher(
    IServiceScopeFactory scopes,
    IDatabaseDialect dialect,
    EndpointSecrets secrets,
    OutboxSignal signal,
    INotificationObserver observer,
    TimeProvider time,
    IOptions<NotificationsOptions> options,
    ILogger<NotificationDispatcher> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, int> _inFlight = new();
    private readonly ConcurrentDictionary<Task, bool> _running = new();
    private int _total;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.Value.PollMilliseconds);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var sleep = poll;
                signal.Reset();
                try
                {
                    await RunOnceAsync(stoppingToken);
                    if (await NextDueAsync(stoppingToken) is { } due)
                    {
                        sleep = TimeSpan.FromTicks(Math.Clamp((due - time.GetUtcNow().UtcDateTime).Ticks, 0, poll.Ticks));
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.PassFailed(logger, ex);
                }
                // A one-shot wait, not a periodic timer: when the clock jumps (a suspended VM, a test's
                // fake clock moved by a month) the next pass runs once, not once per missed period.
                using var woken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                await Task.WhenAny(signal.Raised, Task.Delay(sleep, time, woken.Token));
                await woken.CancelAsync();
            }
        }
        finally
        {
            // Attempts cut off by the stop are made again once their lease ran out.
            await Task.WhenAll(_running.Keys);
        }
    }

    /// <summary>
    /// When the next pending message falls due or its lease runs out, if later than now; null when
    /// none will. Messages due now that the pass left (their endpoint had no free slot) go when an
    /// attempt finishes, which raises the signal.
    /// </summary>
    private async Task<DateTime?> NextDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        return await db.NotificationMessages.AsNoTracking().Where(m => m.Status == MessageStatus.Pending)
            .Select(m => m.ClaimedUntil != null && m.ClaimedUntil > m.NextAttemptAt ? m.ClaimedUntil.Value : m.NextAttemptAt)
            .Where(due => due > now)
            .Select(due => (DateTime?)due)
            .MinAsync(cancellationToken);
    }

    /// <summary>Claims what is due and starts its attempts; returns how many were started.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        observer.OldestUndelivered(await NotificationQueries.OldestUndeliveredAsync(db, cancellationToken));
        var tenants = await Due(db, now).Select(m => m.TenantId).Distinct().OrderBy(t => t).Take(1000).ToListAsync(cancellationToken);
        var started = 0;
        foreach (var tenantId in tenants)
        {
            var room = Math.Min(settings.MaxConcurrentPerEndpoint - _inFlight.GetValueOrDefault(tenantId), settings.MaxConcurrentAttempts - _total);
            if (room <= 0)
            {
                continue;
            }
            var candidates = await Due(db, now).Where(m => m.TenantId == tenantId).OrderBy(m => m.NextAttemptAt)
                .Select(m => new { m.Id, m.AttemptCount }).Take(room).ToListAsync(cancellationToken);
            foreach (var candidate in candidates)
            {
                var token = Guid.NewGuid().ToString("N");
                if (!await ClaimAsync(db, candidate.Id, candidate.AttemptCount, token, now, cancellationToken))
                {
                    continue; // another instance has it
                }
                _inFlight.AddOrUpdate(tenantId, 1, (_, n) => n + 1);
                Interlocked.Increment(ref _total);
                started++;
                var attempt = Task.Run(() => AttemptAsync(candidate.Id, token, cancellationToken), CancellationToken.None);
                _running[attempt] = true;
                _ = attempt.ContinueWith(done =>
                {
                    _running.TryRemove(done, out _);
                    _inFlight.AddOrUpdate(tenantId, 0, (_, n) => n - 1);
                    Interlocked.Decrement(ref _total);
                    signal.Raise(); // a slot is free: the endpoint's next messages may go
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        return started;
    }

    private static IQueryable<NotificationMessage> Due(OrchestratorDbContext db, DateTime now) =>
        db.NotificationMessages.AsNoTracking()
            .Where(m => m.Status == MessageStatus.Pending && m.NextAttemptAt <= now && (m.ClaimedUntil == null || m.ClaimedUntil <= now));

    /// <summary>The lease: it succeeds for one instance only, and only if nobody attempted the message since it was read.</summary>
    private async Task<bool> ClaimAsync(OrchestratorDbContext db, string id, int attemptCount, string token, DateTime now, CancellationToken cancellationToken)
    {
        var until = now + options.Value.AttemptTimeout + TimeSpan.FromSeconds(60);
        using (await dialect.EnterWriteAsync(cancellationToken))
        {
            return await db.NotificationMessages
                .Where(m => m.Id == id && m.Status == MessageStatus.Pending && m.AttemptCount == attemptCount
                    && (m.ClaimedUntil == null || m.ClaimedUntil <= now))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.ClaimedUntil, until).SetProperty(m => m.ClaimToken, token), cancellationToken) == 1;
        }
    }

    // Event ids 500–599: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "Notification pass failed; the next one retries")]
        public static partial void PassFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "Notification {MessageId} attempt failed unexpectedly; retried once its lease runs out")]
        public static partial void AttemptCrashed(ILogger logger, Exception exception, string messageId);

        [LoggerMessage(EventId = 502, Level = LogLevel.Information,
            Message = "Notification {MessageId} ({EventType}) to tenant {TenantId}: {Outcome} {StatusCode} in {DurationMs} ms")]
        public static partial void Attempted(ILogger logger, string messageId, string eventType, string tenantId, AttemptOutcome outcome, int? statusCode, int durationMs);

        [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Notification endpoint of tenant {TenantId} disabled: {Reason}")]
        public static partial void EndpointDisabled(ILogger logger, string tenantId, string reason);

        [LoggerMessage(EventId = 504, Level = LogLevel.Warning, Message = "Notification {MessageId}: the lease ran out before its attempt was recorded; the attempt is dropped")]
        public static partial void LeaseLost(ILogger logger, string messageId);
    }
}
