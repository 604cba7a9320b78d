namespace Tavus.Orchestrator.Tests;

/// <summary>
/// A notification test: the host of <see cref="NotificationFixture"/>, a tenant of its own, and a real
/// Kestrel receiver of its own, whose <see cref="Path"/> is the tenant's id.
/// </summary>
public abstract class NotificationIntegrationTests(NotificationFixture fixture) : IntegrationTests<NotificationFixture>(fixture)
{
    protected NotificationReceiver Receiver { get; private set; } = null!;

    protected string Path => $"/{Tenant.Id}";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Receiver = await NotificationReceiver.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await base.DisposeAsync();
    }
}
