using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Tavus.Orchestrator.Conversations;
using Tavus.Orchestrator.Data;

namespace Tavus.Orchestrator.Notifications;

/// <summary>
/// Writes notifications into the outbox inside the transaction of what causes them: the event
/// writer's batch (<see cref="EventBatchSession"/>, through <see cref="OutboxCommands"/>) or a
/// change made through EF (<see cref="AddAsync"/>). Nothing is written for a tenant with no enabled
/// endpoint, or one that does not take the type.
/// </summary>
public static class Outbox
{
    internal const string EndpointOfConversationSql = """
        SELECT c."Status", c."TenantId", e."EventTypes" FROM "Conversations" c
        JOIN "NotificationEndpoints" e ON e."TenantId" = c."TenantId"
        WHERE c."Id" = @conversation AND e."Enabled"
        """;

    internal const string InsertMessageSql = """
        INSERT INTO "NotificationMessages" ("Id", "TenantId", "ConversationId", "EventType", "OccurredAt", "CreatedAt", "Status", "AttemptCount", "ScheduleStep", "NextAttemptAt")
        VALUES (@id, @tenant, @conversation, @type, @occurred, @created, 'Pending', 0, 0, @created)
        """;

    /// <summary>
    /// Adds the message for a conversation that reached <paramref name="type"/>'s state, to the
    /// context's transaction (the caller saves and commits with its own change); false when not sent.
    /// </summary>
    public static async Task<bool> AddAsync(OrchestratorDbContext db, string tenantId, string conversationId, string type, DateTime now,
        CancellationToken cancellationToken)
    {
        var endpoint = await db.NotificationEndpoints.AsNoTracking()
            .Where(e => e.TenantId == tenantId && e.Enabled).Select(e => new { e.EventTypes }).FirstOrDefaultAsync(cancellationToken);
        if (endpoint is null || !NotificationTypes.Subscribed(endpoint.EventTypes, type))
        {
            return false;
        }
        db.NotificationMessages.Add(New(tenantId, conversationId, type, now, now));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    internal static NotificationMessage New(string tenantId, string conversationId, string type, DateTime occurredAt, DateTime now) => new()
    {
        Id = NotificationTypes.NewMessageId(),
        TenantId = tenantId,
        ConversationId = conversationId,
        EventType = type,
        OccurredAt = occurredAt,
        CreatedAt = now,
        Status = MessageStatus.Pending,
        NextAttemptAt = now,
    };
}

/// <summary>
/// The outbox's statements on the event writer's connection: for each newly stored event that may
/// notify, its conversation's status before the event is applied, then the message it causes.
/// </summary>
internal sealed class OutboxCommands : IDisposable
{
    private readonly DbCommand _find;
    private readonly DbCommand _insert;

    public OutboxCommands(DbConnection connection, DbType timestamps)
    {
        _find = connection.CreateCommand();
        _find.CommandText = Outbox.EndpointOfConversationSql;
        Add(_find, "conversation", DbType.String);
        _insert = connection.CreateCommand();
        _insert.CommandText = Outbox.InsertMessageSql;
        Add(_insert, "id", DbType.String);
        Add(_insert, "tenant", DbType.String);
        Add(_insert, "conversation", DbType.String);
        Add(_insert, "type", DbType.String);
        Add(_insert, "occurred", timestamps);
        Add(_insert, "created", timestamps);
    }

    /// <summary>Call before the event is applied to its conversation, in the batch's transaction; true when a message was written.</summary>
    public bool Write(EventWrite write, DbTransaction? transaction)
    {
        if (!NotificationTypes.MayNotify(write))
        {
            return false;
        }
        _find.Transaction = transaction;
        _find.Parameters[0].Value = write.Event.ConversationId;
        string tenantId;
        string? eventTypes;
        ConversationStatus before;
        using (var reader = _find.ExecuteReader())
        {
            if (!reader.Read())
            {
                return false;
            }
            before = Enum.Parse<ConversationStatus>(reader.GetString(0));
            tenantId = reader.GetString(1);
            eventTypes = reader.IsDBNull(2) ? null : reader.GetString(2);
        }
        if (NotificationTypes.Caused(before, write) is not { } type || !NotificationTypes.Subscribed(eventTypes, type))
        {
            return false;
        }
        _insert.Transaction = transaction;
        var p = _insert.Parameters;
        p[0].Value = NotificationTypes.NewMessageId();
        p[1].Value = tenantId;
        p[2].Value = write.Event.ConversationId;
        p[3].Value = type;
        p[4].Value = write.Event.OccurredAt;
        p[5].Value = write.Event.ReceivedAt;
        _insert.ExecuteNonQuery();
        return true;
    }

    private static void Add(DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
    }

    public void Dispose()
    {
        _find.Dispose();
        _insert.Dispose();
    }
}
