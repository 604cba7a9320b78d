using System.Globalization;
using System.Text;
using Npgsql;

namespace Tavus.Orchestrator.Data.Postgres;

/// <summary>
/// What a commit tells the other instances' live streams on PostgreSQL: a <c>NOTIFY</c> sent in the
/// writer's transaction, so it is delivered exactly when the events are visible, and never for a
/// rolled-back batch. Its payload names the lowest event id of the batch and each conversation with
/// its highest id there: <c>"1041 o3f…:1044 o9a…:1043"</c>. A listener reads each named conversation's
/// events from the lowest id on, which covers the whole batch whatever order concurrent batches
/// commit in. A payload stays under PostgreSQL's 8000 bytes: a larger batch is split into several
/// notifications (still one statement); an id a payload cannot carry is sent as <c>*</c>, every
/// watched conversation.
/// </summary>
public static class LiveNotifications
{
    public const string Channel = "tavus_orchestrator_events";
    public const string EveryConversation = "*";
    private const int MaxPayloadBytes = 7900;

    /// <summary>One notification: read these conversations' events from an id on.</summary>
    /// <param name="FromId">The lowest event id of the batch.</param>
    /// <param name="Conversations">Each conversation with its highest id in the batch; <c>*</c> for every watched one.</param>
    public sealed record Notice(long FromId, IReadOnlyList<(string ConversationId, long HighestId)> Conversations)
    {
        public bool Everything => Conversations.Any(c => c.ConversationId == EveryConversation);

        public long HighestId => Conversations.Count == 0 ? FromId : Conversations.Max(c => c.HighestId);
    }

    /// <summary>Notifies the channel of the events a batch stored (null ids: duplicates, not stored), inside its transaction.</summary>
    public static void Notify(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<string> conversationIds, IReadOnlyList<long?> ids)
    {
        var stored = new List<(string, long)>(ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] is { } id)
            {
                stored.Add((conversationIds[i], id));
            }
        }
        var payloads = Payloads(stored);
        if (payloads.Count == 0)
        {
            return;
        }
        using var command = new NpgsqlCommand("SELECT pg_notify(@channel, payload) FROM unnest(@payloads) AS payload", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string>("channel", Channel));
        command.Parameters.Add(new NpgsqlParameter<string[]>("payloads", [.. payloads]));
        command.ExecuteNonQuery();
    }

    public static List<string> Payloads(IEnumerable<(string ConversationId, long Id)> events)
    {
        var byConversation = new Dictionary<string, (long Lowest, long Highest)>(StringComparer.Ordinal);
        foreach (var (conversationId, id) in events)
        {
            var key = Carriable(conversationId) ? conversationId : EveryConversation;
            byConversation[key] = byConversation.TryGetValue(key, out var range)
                ? (Math.Min(range.Lowest, id), Math.Max(range.Highest, id))
                : (id, id);
        }
        var payloads = new List<string>();
        var tokens = new List<string>();
        var lowest = long.MaxValue;
        var bytes = 20;
        foreach (var (conversationId, (low, high)) in byConversation)
        {
            var token = conversationId + ":" + high.ToString(CultureInfo.InvariantCulture);
            var size = Encoding.UTF8.GetByteCount(token) + 1;
            if (tokens.Count > 0 && bytes + size > MaxPayloadBytes)
            {
                payloads.Add(Payload(lowest, tokens));
                (tokens, lowest, bytes) = ([], long.MaxValue, 20);
            }
            tokens.Add(token);
            lowest = Math.Min(lowest, low);
            bytes += size;
        }
        if (tokens.Count > 0)
        {
            payloads.Add(Payload(lowest, tokens));
        }
        return payloads;
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

    private static string Payload(long lowest, List<string> tokens) =>
        lowest.ToString(CultureInfo.InvariantCulture) + " " + string.Join(' ', tokens);

    private static bool Carriable(string conversationId) =>
        conversationId.Length is > 0 and <= 64 && conversationId != EveryConversation && !conversationId.Any(char.IsWhiteSpace);
}
