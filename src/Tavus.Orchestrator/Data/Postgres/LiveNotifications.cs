using System.Globalization;

namespace Tavus.Orchestrator.Data.Postgres;

/// <summary>
/// What a commit tells the other instances' live streams on PostgreSQL: a <c>NOTIFY</c> sent by the
/// writer's insert itself (<see cref="NotifySql"/>), so it is delivered exactly when the events are
/// visible, never for a rolled-back batch, and costs no round trip of its own. Its payload names the
/// lowest event id of the batch and each conversation with its highest id there:
/// <c>"1041 o3f…:1044 o9a…:1043"</c>. A listener reads each named conversation's events from the
/// lowest id on, which covers the whole batch whatever order concurrent batches commit in. A payload
/// stays under PostgreSQL's 8000 bytes: a larger batch is split into several notifications (still the
/// one statement); an id a payload cannot carry is sent as <c>*</c>, every watched conversation.
/// </summary>
public static class LiveNotifications
{
    public const string Channel = "tavus_orchestrator_events";
    public const string EveryConversation = "*";

    /// <summary>
    /// A CTE over the CTE <c>inserted</c> (the batch's stored rows: "Id", "ConversationId") that
    /// notifies the channel of them; the statement must read <c>(SELECT count(*) FROM notified)</c>
    /// for it to run, once. Conversations are named in groups of 80: a name is at most 64 bytes (else
    /// <c>*</c>) and an id at most 19 digits, so a payload is at most 20 + 80 × 85 = 6,820 bytes.
    /// </summary>
    public const string NotifySql = $$"""
        notified AS (
            SELECT pg_notify('{{Channel}}', min(n.lowest)::text || ' ' || string_agg(n.named, ' '))
            FROM (
                SELECT min(i."Id") AS lowest, k.name || ':' || max(i."Id")::text AS named, (row_number() OVER () - 1) / 80 AS part
                FROM inserted AS i
                CROSS JOIN LATERAL (SELECT CASE
                    WHEN octet_length(i."ConversationId") BETWEEN 1 AND 64 AND i."ConversationId" <> '{{EveryConversation}}' AND i."ConversationId" !~ '[[:space:]]'
                    THEN i."ConversationId" ELSE '{{EveryConversation}}' END AS name) AS k
                GROUP BY k.name) AS n
            GROUP BY n.part)
        """;

    /// <summary>One notification: read these conversations' events from an id on.</summary>
    /// <param name="FromId">The lowest event id of the batch.</param>
    /// <param name="Conversations">Each conversation with its highest id in the batch; <c>*</c> for every watched one.</param>
    public sealed record Notice(long FromId, IReadOnlyList<(string ConversationId, long HighestId)> Conversations)
    {
        public bool Everything => Conversations.Any(c => c.ConversationId == EveryConversation);

        public long HighestId => Conversations.Count == 0 ? FromId : Conversations.Max(c => c.HighestId);
    }

    /// <summary>The notice a payload carries; null for one this version does not know.</summary>
    public static Notice? Parse(string payload)
    {
        var parts = payload.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var fromId))
        {
            return null;
        }
        var conversations = new List<(string, long)>(parts.Length - 1);
        foreach (var part in parts.AsSpan(1))
        {
            var colon = part.LastIndexOf(':');
            if (colon <= 0 || !long.TryParse(part.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var highest))
            {
                return null;
            }
            conversations.Add((part[..colon], highest));
        }
        return new Notice(fromId, conversations);
    }
}
