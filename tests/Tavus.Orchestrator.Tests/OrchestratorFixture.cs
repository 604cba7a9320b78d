using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;

namespace Tavus.Orchestrator.Tests;

/// <summary>
/// One orchestrator host (and its database) shared by the tests of a class, started once and
/// removed with its database when the class is done. Classes still run in parallel, each on its host.
/// </summary>
public class OrchestratorFixture : IAsyncLifetime
{
    public OrchestratorFixture()
        : this(null)
    {
    }

    /// <param name="settings">Configuration over the test defaults, for a class whose tests all need it.</param>
    protected OrchestratorFixture(Dictionary<string, string?>? settings) => Factory = new OrchestratorFactory(settings: settings);

    /// <param name="settings">Configuration over the test defaults.</param>
    /// <param name="time">A clock of the class's own (one that starts at the real time, say).</param>
    protected OrchestratorFixture(Dictionary<string, string?>? settings, Microsoft.Extensions.Time.Testing.FakeTimeProvider time) =>
        Factory = new OrchestratorFactory(settings: settings, time: time);

    public OrchestratorFactory Factory { get; }

    public virtual Task InitializeAsync()
    {
        // Start the host (and migrate its database) once, before the first test's clock starts.
        _ = Factory.Server;
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync() => await Factory.DisposeAsync();
}

/// <summary>
/// A test over the class's shared host, with a tenant of its own: what the test creates, reads and
/// counts is its tenant's alone, whatever the other tests of the class left behind.
/// </summary>
public abstract class IntegrationTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : OrchestratorFixture
{
    protected OrchestratorFactory Factory { get; } = fixture.Factory;

    /// <summary>This test's tenant, named after <see cref="TenantName"/>.</summary>
    protected TenantClient Tenant { get; private set; } = null!;

    protected virtual string TenantName => "acme";

    public virtual async Task InitializeAsync()
    {
        // What the previous test set on the shared host ends with it.
        Factory.LoseCreateAnswers = false;
        Factory.TavusCalls.Clear();
        await Factory.SetFaultsAsync();
        Tenant = await Factory.CreateTenantAsync(TenantName);
    }

    public virtual Task DisposeAsync()
    {
        Tenant.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>How many events this test's tenant stored (that match <paramref name="where"/>).</summary>
    protected Task<int> EventCountAsync(Expression<Func<ConversationEvent, bool>>? where = null) =>
        Factory.QueryAsync(db => db.EventsOf(Tenant.Id).Where(where ?? (e => true)).CountAsync());

    /// <summary>How many conversations this test's tenant has (that match <paramref name="where"/>).</summary>
    protected Task<int> ConversationCountAsync(Expression<Func<Conversation, bool>>? where = null) =>
        Factory.QueryAsync(db => db.Conversations.Where(c => c.TenantId == Tenant.Id).Where(where ?? (c => true)).CountAsync());
}

/// <summary>A test over the default shared host.</summary>
public abstract class IntegrationTests(OrchestratorFixture fixture) : IntegrationTests<OrchestratorFixture>(fixture);

public static class ModelQueries
{
    /// <summary>The events of one tenant's conversations.</summary>
    public static IQueryable<ConversationEvent> EventsOf(this Data.OrchestratorDbContext db, string tenantId) =>
        db.ConversationEvents.Where(e => db.Conversations.Any(c => c.Id == e.ConversationId && c.TenantId == tenantId));
}
