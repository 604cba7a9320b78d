using System.Globalization;

namespace Tavus.Orchestrator.Conversations;

/// <summary>
/// Where a live stream stands, told to the client as each event's SSE id and brought back by the
/// client as <c>Last-Event-ID</c> when it reconnects: every event of the conversation with an id up
/// to a floor was delivered, and so were the few ids listed after it (<c>"41"</c>, <c>"38,41"</c>).
/// The timeline goes by <c>occurred_at</c>, not by id, so a replay may deliver a later id before an
/// earlier one; the list covers those until the earlier ones are sent.
/// </summary>
public sealed class StreamCursor
{
    public const string Header = "Last-Event-ID";

    /// <summary>Past this many listed ids an event goes without an id: the client keeps the previous one.</summary>
    private const int MaxListed = 16;

    private readonly long _resumedFloor;
    private long _floor;
    private long _highest;
    private readonly SortedSet<long> _listed = [];
    private readonly HashSet<long> _sent = [];

    private StreamCursor(long floor, IEnumerable<long> listed)
    {
        _resumedFloor = _floor = _highest = floor;
        foreach (var id in listed.Where(id => id > floor))
        {
            _listed.Add(id);
            _sent.Add(id);
            _highest = Math.Max(_highest, id);
        }
    }

    /// <summary>A stream from the start (no header), or from the header's position; false when it is not one we handed out.</summary>
    public static bool TryParse(string? header, out StreamCursor cursor)
    {
        cursor = new StreamCursor(0, []);
        if (string.IsNullOrEmpty(header))
        {
            return true;
        }
        var parts = header.Split(',');
        if (parts.Length > MaxListed + 1)
        {
            return false;
        }
        var ids = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length is 0 or > 18 || !long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
            {
                return false;
            }
        }
        cursor = new StreamCursor(ids[0], ids.Skip(1));
        return true;
    }

    /// <summary>Whether the client has this event already (sent on this connection, or before its position).</summary>
    public bool IsDelivered(long id) => id <= _resumedFloor || _sent.Contains(id);

    /// <summary>
    /// Records that an event was sent and returns the SSE id to send with it (null: none, the client
    /// keeps its last). <paramref name="lowestPending"/>: the lowest id the replay has still to send.
    /// </summary>
    public string? Sent(long id, long? lowestPending)
    {
        _sent.Add(id);
        _highest = Math.Max(_highest, id);
        var floor = lowestPending is { } lowest ? Math.Min(lowest - 1, _highest) : _highest;
        _floor = Math.Max(_floor, floor);
        if (id > _floor)
        {
            _listed.Add(id);
        }
        _listed.RemoveWhere(listed => listed <= _floor);
        var position = _floor.ToString(CultureInfo.InvariantCulture);
        return _listed.Count switch
        {
            0 => position,
            <= MaxListed => position + "," + string.Join(',', _listed.Select(listed => listed.ToString(CultureInfo.InvariantCulture))),
            _ => null,
        };
    }
}
