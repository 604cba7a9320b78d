namespace Tavus.Orchestrator.Conversations;

/// <summary>An event to store, with what it changes on its conversation.</summary>
/// <param name="Event">The event, with our conversation key.</param>
/// <param name="Effect">The columns it sets on the conversation.</param>
/// <param name="AdoptTavusId">Tavus' id for a conversation that has none yet (its create answer was lost).</param>
/// <param name="PublicId">The id clients know the conversation by (Tavus' id, which a callback names), for the log.</param>
/// <param name="TenantId">The conversation's tenant, for the ends metric.</param>
public sealed record EventWrite(ConversationEvent Event, EventEffect Effect, string? AdoptTavusId = null, string? PublicId = null, string? TenantId = null);

public enum RecordOutcome
{
    Recorded,
    Duplicate,
}

/// <summary>
/// Where <see cref="EventWriter"/> commits its batches: SQLite or PostgreSQL, chosen once in
/// <c>AddDatabase</c>.
/// </summary>
public interface IEventStore
{
    /// <summary>The writer's session: its own connection and statements, used by one thread only.</summary>
    IEventBatchSession Open(CancellationToken cancellationToken);
}

public interface IEventBatchSession : IDisposable
{
    /// <summary>
    /// Stores the batch in one transaction, in order, and applies each new event to its conversation
    /// (<see cref="Lifecycle.ApplySql"/>); sets each stored event's id. An event a unique index
    /// already holds (stored before, earlier in this batch, or a second end) is a duplicate.
    /// Everything else that must commit with the events belongs in this same transaction.
    /// </summary>
    RecordOutcome[] Commit(IReadOnlyList<EventWrite> batch);

    /// <summary>False once the server has cut the session's connection: the writer opens another.</summary>
    bool IsOpen { get; }
}
