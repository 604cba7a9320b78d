namespace Tavus.Orchestrator.Tenants;

/// <summary>What happens to a requested timer outside a policy's bounds.</summary>
public enum Enforcement
{
    /// <summary>The request is refused with 422.</summary>
    Reject,
    /// <summary>The value is brought into the bounds and the answer lists the adjustment.</summary>
    Clamp,
}

/// <summary>The default and the bounds of one Tavus timer, in seconds.</summary>
public sealed record TimerBounds(int Default, int Min, int Max);

/// <summary>Bounds and defaults for the three Tavus timers, a concurrency cap and a monthly quota of minutes.</summary>
public sealed record TenantPolicy(
    TimerBounds MaxCallDuration,
    TimerBounds ParticipantLeftTimeout,
    TimerBounds ParticipantAbsentTimeout,
    int? MaxConcurrentConversations,
    Enforcement Enforcement,
    int? MaxMinutesPerMonth = null)
{
    /// <summary>The largest monthly quota a policy may set (about 23 conversations running all month).</summary>
    public const int MaxMinutesPerMonthLimit = 1_000_000;

    /// <summary>Tavus' own limit for max_call_duration.</summary>
    public const int TavusMaxCallDuration = 3600;

    /// <summary>Tavus' defaults: 3600 / 0 / 300, bounds 0–3600 (max_call_duration from 1: Tavus refuses 0), no cap.</summary>
    public static TenantPolicy TavusDefaults { get; } = new(
        new TimerBounds(3600, 1, 3600),
        new TimerBounds(0, 0, 3600),
        new TimerBounds(300, 0, 3600),
        MaxConcurrentConversations: null,
        Enforcement.Reject);

    /// <summary>
    /// Resolves the three timers of a conversation request: a missing one takes the default, one
    /// out of bounds is an error (reject) or is clamped and reported (clamp).
    /// </summary>
    public TimerResolution Resolve(int? maxCallDuration, int? participantLeftTimeout, int? participantAbsentTimeout)
    {
        var adjustments = new List<Adjustment>();
        var errors = new Dictionary<string, string[]>();
        var max = ResolveOne("max_call_duration", maxCallDuration, MaxCallDuration);
        var left = ResolveOne("participant_left_timeout", participantLeftTimeout, ParticipantLeftTimeout);
        var absent = ResolveOne("participant_absent_timeout", participantAbsentTimeout, ParticipantAbsentTimeout);
        return new TimerResolution(new ConversationTimers(max, left, absent), adjustments, errors);

        int ResolveOne(string name, int? requested, TimerBounds bounds)
        {
            if (requested is not { } value)
            {
                return bounds.Default;
            }
            if (value >= bounds.Min && value <= bounds.Max)
            {
                return value;
            }
            var field = $"properties.{name}";
            if (Enforcement == Enforcement.Reject)
            {
                errors[field] = [$"{name} must be between {bounds.Min} and {bounds.Max} seconds for this tenant; {value} was requested."];
                return value;
            }
            var applied = Math.Clamp(value, bounds.Min, bounds.Max);
            adjustments.Add(new Adjustment(field, value, applied,
                value < bounds.Min ? $"below the tenant minimum of {bounds.Min}" : $"above the tenant maximum of {bounds.Max}"));
            return applied;
        }
    }
}

/// <summary>The three timers a conversation runs with, in seconds.</summary>
public sealed record ConversationTimers(int MaxCallDuration, int ParticipantLeftTimeout, int ParticipantAbsentTimeout);

/// <summary>A requested timer value that a <c>clamp</c> policy changed.</summary>
public sealed record Adjustment(string Field, int Requested, int Applied, string Reason);

public sealed record TimerResolution(
    ConversationTimers Timers,
    IReadOnlyList<Adjustment> Adjustments,
    IReadOnlyDictionary<string, string[]> Errors);

/// <summary>A policy as a client or configuration gives it; every part optional so that a missing one can be named.</summary>
public sealed class PolicyInput
{
    public TimerBoundsInput? MaxCallDuration { get; set; }
    public TimerBoundsInput? ParticipantLeftTimeout { get; set; }
    public TimerBoundsInput? ParticipantAbsentTimeout { get; set; }
    public int? MaxConcurrentConversations { get; set; }
    public Enforcement? Enforcement { get; set; }
    public int? MaxMinutesPerMonth { get; set; }

    /// <summary>Checks <c>0 &lt;= min &lt;= default &lt;= max</c> and Tavus' 3600 s limit; a missing timer takes Tavus' bounds.</summary>
    public (TenantPolicy? Policy, Dictionary<string, string[]> Errors) Validate(string prefix = "policy")
    {
        var errors = new Dictionary<string, string[]>();
        var defaults = TenantPolicy.TavusDefaults;
        var max = Check("max_call_duration", MaxCallDuration, defaults.MaxCallDuration, TenantPolicy.TavusMaxCallDuration);
        var left = Check("participant_left_timeout", ParticipantLeftTimeout, defaults.ParticipantLeftTimeout, null);
        var absent = Check("participant_absent_timeout", ParticipantAbsentTimeout, defaults.ParticipantAbsentTimeout, null);
        if (MaxConcurrentConversations is < 1)
        {
            errors[$"{prefix}.max_concurrent_conversations"] = ["max_concurrent_conversations must be at least 1, or left out for no cap."];
        }
        if (MaxMinutesPerMonth is < 1 or > TenantPolicy.MaxMinutesPerMonthLimit)
        {
            errors[$"{prefix}.max_minutes_per_month"] =
                [$"max_minutes_per_month must be between 1 and {TenantPolicy.MaxMinutesPerMonthLimit}, or left out for no quota."];
        }
        return errors.Count > 0
            ? (null, errors)
            : (new TenantPolicy(max!, left!, absent!, MaxConcurrentConversations, Enforcement ?? Tenants.Enforcement.Reject, MaxMinutesPerMonth), errors);

        TimerBounds? Check(string name, TimerBoundsInput? input, TimerBounds fallback, int? ceiling)
        {
            if (input is null)
            {
                return fallback;
            }
            var field = $"{prefix}.{name}";
            if (input.Default is not { } @default || input.Min is not { } min || input.Max is not { } max)
            {
                errors[field] = [$"{name} needs default, min and max."];
                return null;
            }
            var problems = new List<string>();
            if (min < 0 || @default < 0 || max < 0)
            {
                problems.Add($"{name}: default, min and max must be >= 0.");
            }
            if (name == "max_call_duration" && min < 1)
            {
                // Tavus refuses a max_call_duration under one second: a create with 0 would fail there (502).
                problems.Add($"{name}: min must be >= 1 second, Tavus' own minimum.");
            }
            if (!(min <= @default && @default <= max))
            {
                problems.Add($"{name}: must satisfy min <= default <= max (got {min} <= {@default} <= {max}).");
            }
            if (ceiling is { } limit && max > limit)
            {
                problems.Add($"{name}: max must be <= {limit}, Tavus' own limit.");
            }
            if (problems.Count > 0)
            {
                errors[field] = [.. problems];
                return null;
            }
            return new TimerBounds(@default, min, max);
        }
    }
}

public sealed class TimerBoundsInput
{
    public int? Default { get; set; }
    public int? Min { get; set; }
    public int? Max { get; set; }
}
