using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Tavus.Orchestrator.Notifications;

/// <summary>Where a tenant's backend is told about its conversations: one endpoint per tenant.</summary>
public sealed class NotificationEndpoint
{
    public required string TenantId { get; init; }
    public required string Url { get; set; }
    /// <summary>The event types sent, as a JSON array; null: all of them.</summary>
    public string? EventTypes { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary>Why the service disabled it (410 Gone, five days of failures); null when the tenant did.</summary>
    public string? DisabledReason { get; set; }
    /// <summary>The signing secret, protected by ASP.NET Core Data Protection (never stored in the clear).</summary>
    public required string ProtectedSecret { get; set; }
    /// <summary>The secret before the last rotation, signed with too until <see cref="PreviousSecretExpiresAt"/>.</summary>
    public string? PreviousProtectedSecret { get; set; }
    public DateTime? PreviousSecretExpiresAt { get; set; }
    /// <summary>Since when every attempt failed; null after a success.</summary>
    public DateTime? FailingSince { get; set; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; set; }
}

internal sealed class NotificationEndpointConfiguration : IEntityTypeConfiguration<NotificationEndpoint>
{
    public void Configure(EntityTypeBuilder<NotificationEndpoint> builder)
    {
        builder.HasKey(e => e.TenantId);
        builder.Property(e => e.TenantId).HasMaxLength(64);
        builder.Property(e => e.Url).HasMaxLength(NotificationRules.MaxUrlLength);
        builder.Property(e => e.EventTypes).HasMaxLength(1000);
        builder.Property(e => e.DisabledReason).HasMaxLength(200);
        builder.Property(e => e.ProtectedSecret).HasMaxLength(2000);
        builder.Property(e => e.PreviousProtectedSecret).HasMaxLength(2000);
    }
}
