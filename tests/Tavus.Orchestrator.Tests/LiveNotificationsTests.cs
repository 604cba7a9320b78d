using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data.Postgres;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// The NOTIFY the writer's insert sends on PostgreSQL (<see cref="LiveNotifications.NotifySql"/>),
/// heard on a connection of the test's own and read back with the listener's parser.
/// </summary>
public sealed class LiveNotificationsTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create();
    private readonly ConcurrentQueue<string> _payloads = new();
    private OrchestratorFactory _factory = null!;
    private NpgsqlConnection _listening = null!;
    private string _tenantId = null!;
    private CancellationTokenSource _stop = null!;
    private Task _waiting = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _factory = new OrchestratorFactory(_database);
        if (!TestDatabase.UsePostgres)
        {
            return;
        }
        using var tenant = await _factory.CreateTenantAsync("acme");
        _tenantId = tenant.Id;
        _listening = new NpgsqlConnection(_database.ConnectionString);
        await _listening.OpenAsync();
        _listening.Notification += (_, e) => _payloads.Enqueue(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {LiveNotifications.Channel}", _listening))
        {
            await listen.ExecuteNonQueryAsync();
        }
        _stop = new CancellationTokenSource();
        _waiting = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                await _listening.WaitAsync(_stop.Token);
            }
        });
    }

    public async Task DisposeAsync()
    {
        if (TestDatabase.UsePostgres)
        {
            await _stop.CancelAsync();
            await Task.WhenAny(_waiting);
            await _listening.DisposeAsync();
            _stop.Dispose();
        }
        await _factory.DisposeAsync();
        await _database.DisposeAsync();
    }

    [PostgresFact]
    public async Task A_batch_is_one_notification_naming_each_conversation_with_its_highest_id_and_the_lowest_overall()
    {
        var (a, b) = (await SeedAsync(Conversation.NewId()), await SeedAsync(Conversation.NewId()));

        var stored = Commit([a, b, a]);

        var notice = Assert.Single(await NoticesNamingAsync([a, b]));
        Assert.Equal(stored.Min(), notice.FromId);
        Assert.Equal([(a, stored[2]), (b, stored[1])], notice.Conversations.OrderBy(c => c.HighestId == stored[2] ? 0 : 1));
    }

    [PostgresFact]
    public async Task A_batch_too_large_for_one_notification_is_split_under_8000_bytes_losing_nothing()
    {
        var conversations = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            conversations.Add(await SeedAsync(Conversation.NewId()));
        }

        var stored = Commit(conversations);

        var notices = await NoticesNamingAsync(conversations);
        Assert.True(notices.Count > 1);
        Assert.All(_payloads, p => Assert.True(Encoding.UTF8.GetByteCount(p) < 8000));
        var named = notices.SelectMany(n => n.Conversations.Select(c => (c.ConversationId, n.FromId, c.HighestId))).ToList();
        Assert.Equal(conversations.Count, named.Count);
        Assert.All(named, c => Assert.True(c.FromId <= c.HighestId));
        Assert.Equal(conversations.Select((c, i) => (c, stored[i])).Order(), named.Select(c => (c.ConversationId, c.HighestId)).Order());
    }

    [PostgresFact]
    public async Task An_id_a_payload_cannot_carry_becomes_every_watched_conversation()
    {
        await SeedAsync("has space");

        Commit(["has space"]);

        await Eventually.TrueAsync(() => _payloads.Select(LiveNotifications.Parse).Any(n => n is { Everything: true }), "a notice for every conversation");
    }

    /// <summary>One utterance per entry, in one batch through the writer's own session (the insert alone, no transaction).</summary>
    private long[] Commit(IReadOnlyList<string> conversationIds)
    {
        var store = _factory.Services.GetRequiredService<IEventStore>();
        using var session = store.Open(CancellationToken.None);
        var received = DateTime.UtcNow;
        var writes = conversationIds.Select((id, i) => new EventWrite(new ConversationEvent
        {
            ConversationId = id,
            Kind = Lifecycle.KindOf("conversation.utterance"),
            EventType = "conversation.utterance",
            OccurredAt = received,
            ReceivedAt = received,
            Source = EventSource.Webhook,
            Properties = "{}",
            Seq = i,
            DedupeKey = $"seq:{i}",
        }, EventEffect.None)).ToList();
        Assert.All(session.Commit(writes), outcome => Assert.Equal(RecordOutcome.Recorded, outcome));
        return [.. writes.Select(w => w.Event.Id)];
    }

    private async Task<List<LiveNotifications.Notice>> NoticesNamingAsync(IReadOnlyCollection<string> conversationIds)
    {
        List<LiveNotifications.Notice> notices = [];
        await Eventually.TrueAsync(() =>
        {
            notices = [.. _payloads.Select(p => LiveNotifications.Parse(p)!)];
            return notices.SelectMany(n => n.Conversations).Select(c => c.ConversationId).ToHashSet().IsSupersetOf(conversationIds);
        }, "notices naming every conversation of the batch");
        return notices;
    }

    private async Task<string> SeedAsync(string id)
    {
        await _factory.QueryAsync(db =>
        {
            var now = DateTime.UtcNow;
            db.Conversations.Add(new Conversation
            {
                Id = id,
                TenantId = _tenantId,
                Status = ConversationStatus.Active,
                CreatedAt = now,
                DeadlineAt = now.AddHours(1),
                MaxCallDuration = 3600,
                CallbackTokenHash = Guid.NewGuid().ToString("N"),
            });
            return db.SaveChangesAsync();
        });
        return id;
    }
}
