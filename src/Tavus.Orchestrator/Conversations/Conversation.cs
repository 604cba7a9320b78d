using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Tavus.Orchestrator.Hosting;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Conversations;

public enum ConversationStatus
{
    /// <summary>Tavus has not confirmed the create yet: its answer is on its way, or was lost and the reconciler will ask.</summary>
    Pending,
    /// <summary>Tavus accepted it.</summary>
    Created,
    /// <summary>The replica joined.</summary>
    Active,
    /// <summary>Final: no later event reopens it.</summary>
    Ended,
    /// <summary>Tavus never accepted it.</summary>
    Failed,
}

/// <summary>One Tavus conversation of one tenant, and what its callbacks told us.</summary>
public sealed class Conversation
{
    /// <summary>Our own key, minted before Tavus is called, so a failed create has an id too.</summary>
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    /// <summary>Tavus' conversation_id, once Tavus accepted the create.</summary>
    public string? TavusId { get; set; }
    public string? ConversationName { get; set; }
    public string? ConversationUrl { get; set; }
    public ConversationStatus Status { get; set; }
    public int MaxCallDuration { get; init; }
    public int ParticipantLeftTimeout { get; init; }
    public int ParticipantAbsentTimeout { get; init; }
    public List<Adjustment> Adjustments { get; init; } = [];
    public DateTime CreatedAt { get; init; }
    public DateTime DeadlineAt { get; init; }
    public DateTime? EndedAt { get; set; }
    public string? EndReason { get; set; }
    public string? ShutdownReason { get; set; }
    /// <summary>When we last heard anything about it (a callback or the reconciler).</summary>
    public DateTime? LastEventAt { get; set; }
    /// <summary>Until when one instance's reconciler holds this conversation (a lease, so that one instance checks it).</summary>
    public DateTime? ReconcileClaimedUntil { get; set; }
    /// <summary>SHA-256 of the token in this conversation's callback_url.</summary>
    public required string CallbackTokenHash { get; init; }
    /// <summary>Why the create failed, for a <see cref="ConversationStatus.Failed"/> one.</summary>
    public string? FailureDetail { get; set; }

    /// <summary>The id clients use: Tavus' once known, else ours.</summary>
    public string PublicId => TavusId ?? Id;

    /// <summary>
    /// Whether a client's id could name a conversation (ours or Tavus'): anything else is not found
    /// without a query — a NUL in a query parameter is an error on PostgreSQL, not a miss.
    /// </summary>
    public static bool IsPlausibleId(string id) => id.Length is > 0 and <= 64 && TextRules.IsStorable(id);

    public static string NewId() => "o" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..15];
}

internal sealed class ConversationConfiguration : IEntityTypeConfiguration<Conversation>
{
    public void Configure(EntityTypeBuilder<Conversation> builder)
    {
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Id).HasMaxLength(32);
        builder.Property(c => c.TenantId).HasMaxLength(64);
        builder.Property(c => c.TavusId).HasMaxLength(64);
        builder.Property(c => c.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.CallbackTokenHash).HasMaxLength(64);
        builder.Property(c => c.EndReason).HasMaxLength(64);
        builder.Property(c => c.Adjustments).HasConversion(
            value => JsonSerializer.Serialize(value, JsonFormats.Storage),
            json => JsonSerializer.Deserialize<List<Adjustment>>(json, JsonFormats.Storage) ?? new List<Adjustment>(),
            new ValueComparer<List<Adjustment>>((a, b) => a!.SequenceEqual(b!), v => v.Count, v => v.ToList()));
        builder.HasOne<Tenant>().WithMany().HasForeignKey(c => c.TenantId);
        builder.HasIndex(c => c.TavusId).IsUnique();
        builder.HasIndex(c => c.CallbackTokenHash).IsUnique();
        // Listing newest first per tenant, and the concurrency count.
        builder.HasIndex(c => new { c.TenantId, c.CreatedAt, c.Id });
        builder.HasIndex(c => new { c.TenantId, c.Status });
        // The reconciler's scan of conversations not yet ended.
        builder.HasIndex(c => new { c.Status, c.DeadlineAt });
        builder.Ignore(c => c.PublicId);
    }
}
