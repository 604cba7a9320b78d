using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Tavus.Orchestrator.Notifications;

/// <summary>Outbound notifications to tenants' backends (<c>Notifications:*</c>).</summary>
public sealed class NotificationsOptions : IValidatableObject
{
    public const string Section = "Notifications";

    /// <summary>An attempt with no answer within this many seconds failed.</summary>
    [Range(1, 120)]
    public int AttemptTimeoutSeconds { get; set; } = 15;

    /// <summary>The waits after each failed attempt, each ±20 % jitter; past the last the message is failed.</summary>
    [Required]
    public string RetrySchedule { get; set; } = "5s, 5m, 30m, 2h, 5h, 10h, 10h";

    /// <summary>Endpoints on loopback, private or link-local addresses (and plain http); null: true in simulator mode only.</summary>
    public bool? AllowPrivateNetworks { get; set; }

    /// <summary>
    /// The longest the dispatcher sleeps between looks. It is woken sooner by what this instance
    /// writes and by the next scheduled retry; the look finds what other instances wrote and left.
    /// </summary>
    [Range(10, 600_000)]
    public int PollMilliseconds { get; set; } = 10_000;

    /// <summary>Attempts in flight to one tenant's endpoint at once: a slow one holds only its own.</summary>
    [Range(1, 100)]
    public int MaxConcurrentPerEndpoint { get; set; } = 4;

    /// <summary>Attempts in flight from this instance at once.</summary>
    [Range(1, 10_000)]
    public int MaxConcurrentAttempts { get; set; } = 64;

    /// <summary>Where Data Protection keeps the keys that protect stored secrets; empty: beside the SQLite database.</summary>
    public string? KeysPath { get; set; }

    public IReadOnlyList<TimeSpan> Schedule => ParseSchedule(RetrySchedule) ?? [];

    public TimeSpan AttemptTimeout => TimeSpan.FromSeconds(AttemptTimeoutSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ParseSchedule(RetrySchedule) is null)
        {
            yield return new ValidationResult(
                "Notifications:RetrySchedule must be a comma-separated list of waits such as '5s, 5m, 2h' (s, m, h or d; up to 30 entries).",
                [nameof(RetrySchedule)]);
        }
    }

    /// <summary>"5s, 5m, 2h" → the waits; null when any entry is not a positive number of s, m, h or d.</summary>
    public static IReadOnlyList<TimeSpan>? ParseSchedule(string? text)
    {
        var entries = (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (entries.Length > 30)
        {
            return null;
        }
        var waits = new List<TimeSpan>();
        foreach (var entry in entries)
        {
            if (entry.Length < 2 || !int.TryParse(entry[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 100_000)
            {
                return null;
            }
            waits.Add(entry[^1] switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => TimeSpan.Zero,
            });
            if (waits[^1] == TimeSpan.Zero)
            {
                return null;
            }
        }
        return waits;
    }
}
