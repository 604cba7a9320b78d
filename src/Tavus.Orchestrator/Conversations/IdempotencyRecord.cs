using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Tavus.Orchestrator.Conversations;

/// <summary>The first answer to a create with an Idempotency-Key, kept 24 h per tenant.</summary>
public sealed class IdempotencyRecord
{
    public required string TenantId { get; init; }
    public required string Key { get; init; }
    /// <summary>SHA-256 of the request body: the same key with another body is refused.</summary>
    public required string RequestHash { get; init; }
    /// <summary>The conversation the first request created, once it did.</summary>
    public string? ConversationId { get; set; }
    public int? StatusCode { get; set; }
    public string? ResponseBody { get; set; }
    public DateTime CreatedAt { get; init; }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.HasKey(r => new { r.TenantId, r.Key });
        builder.Property(r => r.TenantId).HasMaxLength(64);
        builder.Property(r => r.Key).HasMaxLength(200);
        builder.Property(r => r.RequestHash).HasMaxLength(64);
        builder.Property(r => r.ConversationId).HasMaxLength(32);
        builder.HasIndex(r => r.CreatedAt);
    }
}
