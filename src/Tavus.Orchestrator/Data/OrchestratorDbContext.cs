using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Notifications;
using Tavus.Orchestrator.Tenants;

namespace Tavus.Orchestrator.Data;

/// <summary>The model, shared by both providers; SQLite's migrations belong to this type.</summary>
public class OrchestratorDbContext : DbContext
{
    public OrchestratorDbContext(DbContextOptions<OrchestratorDbContext> options)
        : base(options)
    {
    }

    protected OrchestratorDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<Conversation> Conversations => Set<Conversation>();
    public DbSet<ConversationEvent> ConversationEvents => Set<ConversationEvent>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<NotificationEndpoint> NotificationEndpoints => Set<NotificationEndpoint>();
    public DbSet<NotificationMessage> NotificationMessages => Set<NotificationMessage>();
    public DbSet<NotificationAttempt> NotificationAttempts => Set<NotificationAttempt>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(OrchestratorDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every time is UTC; the stores hand DateTime back without a kind, so restore it on read.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        value => value.Kind == DateTimeKind.Utc ? value : value.ToUniversalTime(),
        value => DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

/// <summary>The same model on PostgreSQL; its own type so that its migrations are its own.</summary>
public sealed class PostgresOrchestratorDbContext(DbContextOptions<PostgresOrchestratorDbContext> options) : OrchestratorDbContext(options)
{
    /// <summary>
    /// The identifiers every callback is checked against compare byte by byte (collation "C"): the
    /// events' unique index, their foreign key and the conversations' primary key. Under a database's
    /// default collation (en_US.UTF-8, C.UTF-8) each comparison went through the C library's strcoll.
    /// </summary>
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<Conversation>().Property(c => c.Id).UseCollation(ByteOrder);
        modelBuilder.Entity<ConversationEvent>().Property(e => e.ConversationId).UseCollation(ByteOrder);
        modelBuilder.Entity<ConversationEvent>().Property(e => e.DedupeKey).UseCollation(ByteOrder);
    }

    /// <summary>PostgreSQL's byte-order collation.</summary>
    public const string ByteOrder = "C";
}
