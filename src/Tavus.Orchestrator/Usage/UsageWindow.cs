using System.Globalization;

namespace Tavus.Orchestrator.Usage;

/// <summary>How usage is bucketed: by UTC day or by UTC month.</summary>
public enum Granularity
{
    Day,
    Month,
}

/// <summary>
/// The window a usage report covers: conversations created in <c>[From, To)</c>, both UTC, in
/// buckets that start on UTC day or month boundaries. Read from the query string, each field checked
/// so that a bad one is a 400 naming it, never a query that runs away.
/// </summary>
public sealed record UsageWindow(DateTime From, DateTime To, Granularity Granularity)
{
    /// <summary>The earliest and latest instants a window may name.</summary>
    public static readonly DateTime Earliest = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    public static readonly DateTime Latest = new(2100, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>At most this many buckets in one answer: over three years of days, a century of months.</summary>
    public const int MaxBuckets = 1200;

    /// <summary>The UTC calendar month that holds <paramref name="instant"/>.</summary>
    public static (DateTime Start, DateTime End) MonthOf(DateTime instant)
    {
        var start = new DateTime(instant.Year, instant.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        return (start, start.AddMonths(1));
    }

    /// <summary>
    /// Reads <c>from</c>, <c>to</c> (ISO 8601 dates or instants; an offset is converted to UTC, none
    /// means UTC) and <c>granularity</c>. Defaults: this UTC month, by day.
    /// </summary>
    public static (UsageWindow? Window, Dictionary<string, string[]> Errors) Read(string? from, string? to, string? granularity, DateTime now)
    {
        var errors = new Dictionary<string, string[]>();
        var month = MonthOf(now);
        var start = ReadInstant("from", from, month.Start, errors);
        var end = ReadInstant("to", to, month.End, errors);
        var unit = Granularity.Day;
        if (granularity is not null && !TryReadGranularity(granularity, out unit))
        {
            errors["granularity"] = ["granularity is 'day' or 'month'."];
        }
        if (errors.Count == 0 && start >= end)
        {
            errors["to"] = ["to must be after from."];
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var window = new UsageWindow(start, end, unit);
        if (window.BucketStarts().Take(MaxBuckets + 1).Count() > MaxBuckets)
        {
            errors["to"] = [$"from–to spans more than {MaxBuckets} {(unit == Granularity.Day ? "days" : "months")}; ask for a shorter window or granularity=month."];
            return (null, errors);
        }
        return (window, errors);
    }

    /// <summary>The start of the bucket holding <paramref name="instant"/>.</summary>
    public DateTime BucketOf(DateTime instant) => Granularity == Granularity.Day
        ? new DateTime(instant.Year, instant.Month, instant.Day, 0, 0, 0, DateTimeKind.Utc)
        : MonthOf(instant).Start;

    /// <summary>Every bucket's start, from the one holding <see cref="From"/> up to <see cref="To"/>.</summary>
    public IEnumerable<DateTime> BucketStarts()
    {
        for (var start = BucketOf(From); start < To; start = Granularity == Granularity.Day ? start.AddDays(1) : start.AddMonths(1))
        {
            yield return start;
        }
    }

    private static bool TryReadGranularity(string text, out Granularity granularity)
    {
        granularity = text switch { "day" => Granularity.Day, "month" => Granularity.Month, _ => (Granularity)(-1) };
        return granularity >= 0;
    }

    private static DateTime ReadInstant(string field, string? text, DateTime fallback, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return fallback;
        }
        if (text.Length > 40 || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            errors[field] = [$"{field} is an ISO 8601 date (2025-05-01) or instant (2025-05-01T00:00:00Z)."];
            return fallback;
        }
        var utc = parsed.UtcDateTime;
        if (utc < Earliest || utc > Latest)
        {
            errors[field] = [$"{field} must be between 2000-01-01 and 2100-01-01."];
            return fallback;
        }
        return DateTime.SpecifyKind(utc, DateTimeKind.Utc);
    }
}
