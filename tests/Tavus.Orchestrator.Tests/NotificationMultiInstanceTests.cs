using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tavus.Orchestrator.Notifications;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// Two instances dispatching one outbox (on PostgreSQL with <c>TEST_DATABASE_PROVIDER=Postgres</c>):
/// every message is delivered, each attempt made by one instance.
/// </summary>
public sealed class NotificationMultiInstanceTests : IAsyncLifetime
{
    private const int Messages = 60;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly Dictionary<string, string?> _settings = new() { ["Notifications:MaxConcurrentPerEndpoint"] = "8" };
    private readonly TestDatabase _database = TestDatabase.Create();
    private readonly ConcurrentDictionary<string, int> _attemptsBy = new();
    private OrchestratorFactory _a = null!;
    private OrchestratorFactory _b = null!;
    private NotificationReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _a = Instance("a");
        _b = Instance("b");
        _ = _a.Server;
        _ = _b.Server;
        _receiver = await NotificationReceiver.StartAsync();
    }

    private OrchestratorFactory Instance(string name) => new(_database, _settings, _time)
    {
        ConfigureServices = services => services.AddSingleton<INotificationObserver>(new Counting(_attemptsBy, name)),
    };

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Two_instances_deliver_every_message_once_each_attempt_made_by_one_instance()
    {
        using var tenant = await _a.CreateTenantAsync("acme");
        var path = $"/{tenant.Id}";
        await _a.SetEndpointAsync(tenant, _receiver.Url(path), [NotificationTypes.Created]);
        var conversation = await tenant.CreateConversationAsync();
        var key = await _a.QueryAsync(db => db.Conversations.Where(c => c.TenantId == tenant.Id).Select(c => c.Id).SingleAsync());
        await _a.QueryAsync(db =>
        {
            var now = _time.GetUtcNow().UtcDateTime;
            db.NotificationMessages.AddRange(Enumerable.Range(0, Messages - 1).Select(_ => Outbox.New(tenant.Id, key, NotificationTypes.Created, now, now)));
            return db.SaveChangesAsync();
        });

        await Eventually.TrueAsync(async () =>
        {
            await Task.WhenAll(_a.Dispatcher().RunOnceAsync(CancellationToken.None), _b.Dispatcher().RunOnceAsync(CancellationToken.None));
            return _receiver.At(path).Count >= Messages;
        }, $"{Messages} notifications", seconds: 60);
        await Task.Delay(500);

        var received = _receiver.At(path);
        Assert.Equal(Messages, received.Count);
        Assert.Equal(Messages, received.Select(r => r.Id).Distinct().Count());
        var attempts = await _a.QueryAsync(db => db.NotificationAttempts.Where(a => db.NotificationMessages.Any(m => m.Id == a.MessageId && m.TenantId == tenant.Id))
            .Select(a => new { a.MessageId, a.Number }).ToListAsync());
        Assert.Equal(Messages, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(1, a.Number));
        Assert.Equal(Messages, await _a.QueryAsync(db => db.NotificationMessages.CountAsync(m => m.TenantId == tenant.Id && m.Status == MessageStatus.Delivered)));
        Assert.True(_attemptsBy.GetValueOrDefault("a") > 0 && _attemptsBy.GetValueOrDefault("b") > 0, $"both instances sent: a {_attemptsBy.GetValueOrDefault("a")}, b {_attemptsBy.GetValueOrDefault("b")}");
        Assert.Equal(Messages, _attemptsBy.Values.Sum());
    }

    private sealed class Counting(ConcurrentDictionary<string, int> counts, string name) : INotificationObserver
    {
        public void AttemptFinished(AttemptOutcome outcome, TimeSpan duration) => counts.AddOrUpdate(name, 1, (_, n) => n + 1);

        public void OldestUndelivered(DateTime? createdAt)
        {
        }
    }
}
