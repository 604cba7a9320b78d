using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Notifications;

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

    /// <summary>
    /// A conversation.created that the receiver answers 410 (which disables the endpoint): its one
    /// attempt, once the message is recorded failed.
    /// </summary>
    protected async Task<Received> FailedMessageAsync()
    {
        await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path), [NotificationTypes.Created]);
        Receiver.Status[Path] = 410;
        await Tenant.CreateConversationAsync();
        var first = (await Factory.DeliveredAsync(Receiver, Path, 1)).Single();
        await RecordedAsync(first.Id, MessageStatus.Failed);
        return first;
    }

    /// <summary>The receiver answers 200 again and the tenant sets its endpoint anew (the 410 disabled it).</summary>
    protected async Task MendEndpointAsync()
    {
        Receiver.Status[Path] = 200;
        await Factory.SetEndpointAsync(Tenant, Receiver.Url(Path), [NotificationTypes.Created]);
    }

    /// <summary>Waits until the message's status is recorded, which follows the receiver's answer.</summary>
    protected Task RecordedAsync(string messageId, MessageStatus status) =>
        Eventually.TrueAsync(() => Factory.QueryAsync(db => db.NotificationMessages.AnyAsync(m => m.Id == messageId && m.Status == status)),
            $"the message recorded {status}");

    public override async Task DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await base.DisposeAsync();
    }
}
