using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Tavus.Orchestrator.Hosting;

namespace Tavus.Orchestrator.Tenants;

/// <summary>An internal frontend: its key (hashed) and the policy its conversations follow.</summary>
public sealed class Tenant
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    /// <summary>SHA-256 of the API key; the key itself is shown once and never stored.</summary>
    public required string ApiKeyHash { get; set; }
    public required TenantPolicy Policy { get; set; }
    public DateTime CreatedAt { get; init; }
    /// <summary>A disabled tenant authenticates nothing; its conversations stay.</summary>
    public bool Disabled { get; set; }
    /// <summary>
    /// SHA-256 of the key configuration last applied to this tenant; null for a tenant configuration
    /// never declared. A start applies the configured key only when it differs from this one.
    /// </summary>
    public string? SeededKeyHash { get; set; }
}

internal sealed class TenantConfiguration : IEntityTypeConfiguration<Tenant>
{
    public void Configure(EntityTypeBuilder<Tenant> builder)
    {
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).HasMaxLength(64);
        builder.Property(t => t.Name).HasMaxLength(200);
        builder.Property(t => t.ApiKeyHash).HasMaxLength(64);
        builder.HasIndex(t => t.ApiKeyHash).IsUnique();
        builder.Property(t => t.SeededKeyHash).HasMaxLength(64);
        builder.Property(t => t.Policy).HasConversion(
            policy => JsonSerializer.Serialize(policy, JsonFormats.Storage),
            json => JsonSerializer.Deserialize<TenantPolicy>(json, JsonFormats.Storage)!);
    }
}
