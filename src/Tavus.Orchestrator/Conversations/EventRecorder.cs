using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Conversations;

public enum RecordOutcome
{
    Recorded,
    Duplicate,
}

/// <summary>
/// Stores an event and applies it to its conversation in one transaction. Duplicates are decided
/// by unique indexes, not by a read-then-write, so two copies arriving together store one row.
/// </summary>
public sealed class EventRecorder(OrchestratorDbContext db, ConversationEvents events)
{
    /// <summary>Records the event for the conversation, which must be tracked by this scope's context.</summary>
    public async Task<RecordOutcome> RecordAsync(Conversation conversation, ConversationEvent @event, JsonElement properties, CancellationToken cancellationToken)
    {
        if (await db.ConversationEvents.AnyAsync(e => e.ConversationId == conversation.Id && e.DedupeKey == @event.DedupeKey, cancellationToken))
        {
            return RecordOutcome.Duplicate;
        }
        if (!Lifecycle.Apply(conversation, @event, properties))
        {
            return RecordOutcome.Duplicate;
        }
        db.ConversationEvents.Add(@event);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (IsUniqueViolation(ex))
        {
            // Another copy (or another end) committed first: ours is the duplicate.
            db.ChangeTracker.Clear();
            return RecordOutcome.Duplicate;
        }
        events.Publish(conversation.Id, @event);
        return RecordOutcome.Recorded;
    }

    public static bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };
}
