using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Tavus.Orchestrator.Conversations;

public enum EventKind
{
    ReplicaJoined,
    Ended,
    TranscriptionReady,
    RecordingReady,
    PerceptionAnalysis,
    /// <summary>An operator asked Tavus to end the call (the end itself follows as <see cref="Ended"/>).</summary>
    EndRequested,
    Unknown,
}

public enum EventSource
{
    Webhook,
    Reconciler,
    /// <summary>Recorded by this service for an operator's action.</summary>
    Operator,
}

/// <summary>One entry of a conversation's timeline: a callback or what the reconciler found.</summary>
public sealed class ConversationEvent
{
    public long Id { get; set; }
    public required string ConversationId { get; init; }
    public EventKind Kind { get; init; }
    public required string EventType { get; init; }
    public DateTime OccurredAt { get; init; }
    public DateTime ReceivedAt { get; init; }
    public EventSource Source { get; init; }

    private string? _propertiesText;

    /// <summary>The <c>properties</c> object exactly as Tavus sent it (<c>{}</c> when it sent none).</summary>
    public string Properties
    {
        get => _propertiesText ??= PropertiesUtf8 is { } utf8 ? Encoding.UTF8.GetString(utf8) : "{}";
        init => _propertiesText = value;
    }

    /// <summary>
    /// The same as the UTF-8 bytes of a callback's body, for an event made from one: a callback is
    /// stored without turning its properties into UTF-16 and back (the SQLite writer binds these
    /// bytes); <see cref="Properties"/> decodes them once something reads it. Null otherwise.
    /// </summary>
    public byte[]? PropertiesUtf8 { get; init; }
    /// <summary>Tavus' <c>seq</c>, where it sends one.</summary>
    public long? Seq { get; init; }
    /// <summary>What makes two deliveries the same event: <c>seq</c>, else a hash of type, timestamp and body.</summary>
    public required string DedupeKey { get; init; }
}

internal sealed class ConversationEventConfiguration : IEntityTypeConfiguration<ConversationEvent>
{
    public void Configure(EntityTypeBuilder<ConversationEvent> builder)
    {
        builder.HasKey(e => e.Id);
        builder.Ignore(e => e.PropertiesUtf8);
        builder.Property(e => e.ConversationId).HasMaxLength(32);
        builder.Property(e => e.Kind).HasConversion<string>().HasMaxLength(32);
        builder.Property(e => e.Source).HasConversion<string>().HasMaxLength(16);
        builder.Property(e => e.EventType).HasMaxLength(128);
        builder.Property(e => e.DedupeKey).HasMaxLength(80);
        builder.HasOne<Conversation>().WithMany().HasForeignKey(e => e.ConversationId);
        // The same delivery twice is one row, even when both copies arrive at once.
        builder.HasIndex(e => new { e.ConversationId, e.DedupeKey }).IsUnique();
        // A conversation ends once, whether the callback or the reconciler saw it first.
        builder.HasIndex(e => e.ConversationId).IsUnique().HasFilter("\"Kind\" = 'Ended'").HasDatabaseName("IX_ConversationEvents_OneEnd");
        // The timeline is read by ConversationId through the index above and sorted in memory:
        // one index fewer to maintain on the callback path.
    }
}
