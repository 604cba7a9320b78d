using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Tavus.Orchestrator.Notifications;

public enum MessageStatus
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>
/// One notification in the outbox: written in the same commit as what caused it, then sent (and
/// retried on <see cref="NotificationsOptions.RetrySchedule"/>) by <see cref="NotificationDispatcher"/>.
/// </summary>
public sealed class NotificationMessage
{
    /// <summary>The <c>webhook-id</c>: <c>msg_…</c>, the same on every attempt.</summary>
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    /// <summary>Our key of the conversation.</summary>
    public required string ConversationId { get; init; }
    public required string EventType { get; init; }
    /// <summary>When what it tells of happened: the body's <c>timestamp</c>.</summary>
    public DateTime OccurredAt { get; init; }
    public DateTime CreatedAt { get; init; }
    public MessageStatus Status { get; set; }
    /// <summary>Attempts made so far; the next one is number <c>AttemptCount + 1</c>.</summary>
    public int AttemptCount { get; set; }
    /// <summary>Entries of the retry schedule used up; past its end a failure is final.</summary>
    public int ScheduleStep { get; set; }
    public DateTime? NextAttemptAt { get; set; }
    /// <summary>The lease of the instance making an attempt: no other claims it before this time.</summary>
    public DateTime? ClaimedUntil { get; set; }
    public string? ClaimToken { get; set; }
    /// <summary>The body, fixed at the first attempt so that every attempt sends the same one.</summary>
    public string? Body { get; set; }
    public DateTime? DeliveredAt { get; set; }
}

/// <summary>One try at sending a message: its status code or error, and how long it took.</summary>
public sealed class NotificationAttempt
{
    public long Id { get; init; }
    public required string MessageId { get; init; }
    /// <summary>1 for the first attempt; unique per message, so an attempt slot is used once.</summary>
    public int Number { get; init; }
    public DateTime AttemptedAt { get; init; }
    public int? StatusCode { get; init; }
    public string? Error { get; init; }
    public int DurationMs { get; init; }
}

internal sealed class NotificationMessageConfiguration : IEntityTypeConfiguration<NotificationMessage>
{
    public void Configure(EntityTypeBuilder<NotificationMessage> builder)
    {
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).HasMaxLength(40);
        builder.Property(m => m.TenantId).HasMaxLength(64);
        builder.Property(m => m.ConversationId).HasMaxLength(32);
        builder.Property(m => m.EventType).HasMaxLength(64);
        builder.Property(m => m.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(m => m.ClaimToken).HasMaxLength(40);
        builder.HasIndex(m => new { m.Status, m.NextAttemptAt });
        builder.HasIndex(m => new { m.TenantId, m.CreatedAt });
    }
}

internal sealed class NotificationAttemptConfiguration : IEntityTypeConfiguration<NotificationAttempt>
{
    public void Configure(EntityTypeBuilder<NotificationAttempt> builder)
    {
        builder.HasKey(a => a.Id);
        builder.Property(a => a.MessageId).HasMaxLength(40);
        builder.Property(a => a.Error).HasMaxLength(500);
        builder.HasIndex(a => new { a.MessageId, a.Number }).IsUnique();
        builder.HasOne<NotificationMessage>().WithMany().HasForeignKey(a => a.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}
