using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Data.Postgres;

/// <summary>The connection string the listener opens its one connection with.</summary>
public sealed record LiveListenerOptions(string ConnectionString);

/// <summary>
/// Brings other instances' events to this instance's live streams (PostgreSQL): one connection
/// that <c>LISTEN</c>s and waits (<c>WaitAsync</c>, no polling), and a reader that, for each
/// notification naming a conversation some stream here watches, reads its events by id once and
/// hands them to the in-process fan-out. When the connection drops it reconnects with backoff and
/// then re-reads, by id, what the watched conversations may have got meanwhile.
/// </summary>
public sealed partial class LiveListener(
    LiveListenerOptions options,
    ConversationEvents live,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<LiveListener> logger) : BackgroundService
{
    /// <summary>The listening connection's application_name (pg_stat_activity shows it).</summary>
    public const string ApplicationName = "tavus-orchestrator-listener";

    /// <summary>
    /// After a drop, ids this far below the highest one heard of are read again: batches that took
    /// their ids before it but committed after the drop (a few batches of Events:MaxBatchSize).
    /// </summary>
    private const long ReconnectMargin = 10_000;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly Channel<LiveNotifications.Notice> _notices =
        Channel.CreateUnbounded<LiveNotifications.Notice>(new UnboundedChannelOptions { SingleReader = true });

    private long _highestSeen;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reading = ReadAsync(stoppingToken);
        var connectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            ApplicationName = ApplicationName,
            Pooling = false,
            // A server that vanished without closing the socket is noticed within a minute.
            KeepAlive = 30,
        }.ConnectionString;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) => Heard(e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {LiveNotifications.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                // Listening from here on: what committed before (while down, or before the first
                // connection, when streams may already be open) is read once now.
                var from = Math.Max(0, Volatile.Read(ref _highestSeen) - ReconnectMargin);
                _notices.Writer.TryWrite(new LiveNotifications.Notice(from, [(LiveNotifications.EveryConversation, from)]));
                if (failures > 0)
                {
                    Log.Reconnected(logger, failures, from);
                }
                failures = 0;
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                failures++;
                var delay = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, failures - 1)));
                Log.Dropped(logger, ex, failures, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        _notices.Writer.TryComplete();
        await reading;
    }

    private void Heard(string payload)
    {
        if (LiveNotifications.Parse(payload) is not { } notice)
        {
            return;
        }
        var highest = notice.HighestId;
        long seen;
        while (highest > (seen = Volatile.Read(ref _highestSeen)) && Interlocked.CompareExchange(ref _highestSeen, highest, seen) != seen)
        {
        }
        // Only notices that name a conversation watched here, and not committed by this instance's
        // writer (whose events reached its streams already), cost a read.
        if (notice.Everything || notice.Conversations.Any(c => live.IsWatched(c.ConversationId) && !live.WasPublished(c.ConversationId, c.HighestId)))
        {
            _notices.Writer.TryWrite(notice);
        }
    }

    /// <summary>Drains the notices that came together into one read.</summary>
    private async Task ReadAsync(CancellationToken stoppingToken)
    {
        var reader = _notices.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            var fromId = long.MaxValue;
            var conversations = new HashSet<string>(StringComparer.Ordinal);
            while (reader.TryRead(out var notice))
            {
                var watched = notice.Everything
                    ? live.Watched()
                    : notice.Conversations.Select(c => c.ConversationId).Where(live.IsWatched).ToList();
                if (watched.Count > 0)
                {
                    fromId = Math.Min(fromId, notice.FromId);
                    conversations.UnionWith(watched);
                }
            }
            if (conversations.Count == 0)
            {
                continue;
            }
            try
            {
                foreach (var e in await ReadEventsAsync(conversations, fromId, stoppingToken))
                {
                    live.Publish(e.ConversationId, e);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is not OperationCanceledException)
            {
                // Tried again shortly: the streams must not miss these events.
                Log.ReadFailed(logger, ex, conversations.Count);
                _ = RetryLaterAsync(new LiveNotifications.Notice(fromId, [.. conversations.Select(c => (c, fromId))]), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task RetryLaterAsync(LiveNotifications.Notice notice, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            _notices.Writer.TryWrite(notice);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task<List<ConversationEvent>> ReadEventsAsync(IReadOnlyCollection<string> conversations, long fromId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrchestratorDbContext>();
        var ids = conversations.ToArray();
        return await db.ConversationEvents.AsNoTracking()
            .Where(e => e.Id >= fromId && ids.Contains(e.ConversationId))
            .OrderBy(e => e.Id)
            .ToListAsync(cancellationToken);
    }

    // Event ids 700–719: each class that logs has a range of its own.
    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Warning,
            Message = "The live-event listener lost its PostgreSQL connection (failure {Failures}); reconnecting in {Delay:0} s")]
        public static partial void Dropped(ILogger logger, Exception exception, int failures, double delay);

        [LoggerMessage(EventId = 701, Level = LogLevel.Information,
            Message = "The live-event listener is listening again after {Failures} failures; re-reading watched conversations from event id {FromId}")]
        public static partial void Reconnected(ILogger logger, int failures, long fromId);

        [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Reading {Count} conversations' events for live streams failed; retrying")]
        public static partial void ReadFailed(ILogger logger, Exception exception, int count);
    }
}

public static class LiveListenerExtensions
{
    /// <summary>Live streams hear of other instances' events through PostgreSQL's LISTEN/NOTIFY.</summary>
    public static IServiceCollection AddLiveListener(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton(new LiveListenerOptions(connectionString));
        services.AddHostedService<LiveListener>();
        return services;
    }
}
